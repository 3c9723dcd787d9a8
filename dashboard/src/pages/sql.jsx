// The SQL editor: runs a script as the project's owner role through
// POST /projects/{ref}/sql; a failing statement is shown with the error's
// position marked in the text.
import { useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { ErrorBox, Field, Grid, Page, useSubmit } from '../ui.jsx';

const KEY = (ref) => `plinth.sql.${ref}`;

export function SQLEditor({ ref_: ref }) {
  const [query, setQuery] = useState(() => sessionStorage.getItem(KEY(ref)) || 'select now();');
  const [result, setResult] = useState(null);
  const [ran, setRan] = useState('');
  const { busy, error, submit } = useSubmit(async () => {
    setResult(null);
    setRan(query);
    const res = await api('POST', `/projects/${enc(ref)}/sql`, { query });
    setResult(res);
  });
  const onKey = (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') submit(e);
  };
  const pos = error && /position: (\d+)/.exec(String(error.details || ''));
  return (
    <Page title="SQL editor">
      <form onSubmit={submit}>
        <Field label="SQL" hint="Runs as the project's owner role, inside the project's schema. Ctrl+Enter runs it.">
          {(p) => <textarea {...p} class="sql" rows={10} spellcheck={false} value={query} onKeyDown={onKey}
            onInput={(e) => { setQuery(e.currentTarget.value); sessionStorage.setItem(KEY(ref), e.currentTarget.value); }} />}
        </Field>
        <button type="submit" disabled={busy}>{busy ? 'Running…' : 'Run'}</button>
      </form>
      <ErrorBox error={error} />
      {pos && <ErrorAt sql={ran} pos={Number(pos[1])} />}
      {result && (
        <div>
          <p class="muted" role="status">{result.command || 'OK'} · {result.rows.length} row{result.rows.length === 1 ? '' : 's'}</p>
          <Grid caption="Query results" rows={result.rows} empty="The last statement returned no rows." />
        </div>
      )}
    </Page>
  );
}

// ErrorAt shows the line of the script where Postgres reported the error,
// with the character marked (position is 1-based, in characters).
function ErrorAt({ sql, pos }) {
  const chars = [...sql];
  const i = Math.min(Math.max(pos - 1, 0), chars.length);
  const before = chars.slice(0, i).join('');
  const lineStart = before.lastIndexOf('\n') + 1;
  const lineNo = before.split('\n').length;
  const rest = chars.slice(i).join('');
  const lineEnd = rest.indexOf('\n');
  const at = rest.slice(0, 1) || ' ';
  return (
    <figure class="error-at">
      <figcaption>Error at line {lineNo}, character {pos}:</figcaption>
      <pre><code>{before.slice(lineStart)}<mark>{at}</mark>{lineEnd < 0 ? rest.slice(1) : rest.slice(1, lineEnd)}</code></pre>
    </figure>
  );
}
