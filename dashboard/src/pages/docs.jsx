// API docs per table, generated from the project's OpenAPI document, and
// downloads of the generated TypeScript / Go types.
import { useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { CodeBlock, ErrorBox, Grid, Page, Result, useAsync } from '../ui.jsx';

export function APIDocs({ ref_: ref }) {
  const doc = useAsync(() => api('GET', `/projects/${enc(ref)}/openapi.json`), [ref]);
  const [table, setTable] = useState('');
  const url = `${location.origin}/p/${ref}`;
  return (
    <Page title="API docs">
      <Types ref_={ref} />
      <Result state={doc} what="The OpenAPI document">
        {(d) => {
          const schemas = d.components?.schemas || d.definitions || {};
          const names = Object.keys(schemas).sort();
          const current = table || names[0] || '';
          const s = schemas[current];
          return (
            <div class="split">
              <nav aria-label="Tables and views" class="table-list">
                <ul>{names.map((n) => <li key={n}><a href={`#${n}`} aria-current={n === current ? 'page' : undefined} onClick={(e) => { e.preventDefault(); setTable(n); }}>{n}</a></li>)}</ul>
                {names.length === 0 && <p class="muted">No tables yet.</p>}
              </nav>
              {s && (
                <div class="split-main">
                  <h2>{current}</h2>
                  {s.description && <p>{s.description}</p>}
                  <Grid caption={`Columns of ${current}`} rows={Object.entries(s.properties || {}).map(([name, p]) => ({
                    name, type: p.format || p.type || (p.$ref ? p.$ref.split('/').pop() : ''), required: (s.required || []).includes(name) ? 'yes' : '', description: p.description || '',
                  }))} />
                  <CodeBlock label="curl" code={`curl '${url}/rest/v1/${current}?select=*&limit=10' \\\n  -H "apikey: $ANON_KEY"`} />
                  <CodeBlock label="supabase-js" code={`const { data, error } = await supabase\n  .from('${current}')\n  .select('*')\n  .limit(10)`} />
                  <CodeBlock label="Go SDK" code={`var rows []map[string]any\n_, err := c.From("${current}").Select("*").Limit(10).Execute(ctx, &rows)`} />
                </div>
              )}
            </div>
          );
        }}
      </Result>
    </Page>
  );
}

function Types({ ref_: ref }) {
  const [error, setError] = useState(null);
  const download = async (lang, file) => {
    setError(null);
    try {
      const text = await api('GET', `/projects/${enc(ref)}/types/${lang}`, undefined, { text: true, accept: 'text/plain, */*' });
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
      a.download = file;
      document.body.appendChild(a);
      a.click();
      setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    } catch (e) {
      setError(e.missing ? { message: 'Generated types are not available on this server yet.' } : e);
    }
  };
  return (
    <section class="card" aria-labelledby="types-title">
      <h2 id="types-title">Generated types</h2>
      <div class="actions">
        <button type="button" class="secondary" onClick={() => download('typescript', `${ref}.types.ts`)}>Download TypeScript types</button>
        <button type="button" class="secondary" onClick={() => download('go', `${ref}_types.go`)}>Download Go types</button>
      </div>
      <ErrorBox error={error} />
    </section>
  );
}
