import { useEffect, useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { CodeBlock, ErrorBox, Grid, Page, Result, Secret, announce, useAsync, useSubmit } from '../ui.jsx';
import { UsageChart } from './usage.jsx';

export function ProjectHome({ ref_: ref }) {
  const project = useAsync(() => api('GET', `/projects/${enc(ref)}`), [ref]);
  const keys = useAsync(() => api('GET', `/projects/${enc(ref)}/keys`), [ref]);
  const url = `${location.origin}/p/${ref}`;
  const anon = keys.data?.find((k) => k.role === 'anon' && !k.revoked_at && k.key)?.key || '<anon key>';

  return (
    <Page title={project.data ? `${project.data.name}` : ref}>
      <Result state={project} what="This project">
        {(p) => (
          <dl class="facts">
            <dt>Ref</dt><dd><code>{p.ref}</code></dd>
            <dt>Schema</dt><dd><code>{p.schema}</code></dd>
            <dt>Created</dt><dd><time dateTime={p.created_at}>{new Date(p.created_at).toLocaleString()}</time></dd>
          </dl>
        )}
      </Result>

      <h2>Connect</h2>
      <Secret label="API URL" value={url} />
      <Result state={keys} what="Keys">
        {(ks) => <Keys ref_={ref} keys={ks} reload={keys.reload} />}
      </Result>
      <div class="snippets">
        <CodeBlock label="supabase-js" code={supabaseSnippet(url, anon, ref)} />
        <CodeBlock label="Go SDK" code={goSnippet(location.origin, ref, anon)} />
        <CodeBlock label="curl" code={`curl '${url}/rest/v1/todos?select=*' \\\n  -H "apikey: ${anon}"`} />
      </div>

      <h2 id="usage-title">Usage, last hour</h2>
      <Usage ref_={ref} />
    </Page>
  );
}

function supabaseSnippet(url, anon, ref) {
  return `import { createClient } from '@supabase/supabase-js'

// Several projects can share one origin: give each its own storageKey.
const supabase = createClient('${url}', '${anon}', {
  auth: { storageKey: 'plinth-${ref}' },
})

const { data, error } = await supabase.from('todos').select('*').limit(10)`;
}

function goSnippet(origin, ref, anon) {
  return `import plinth "github.com/plinth-dev/plinth/sdk/go"

c := plinth.New("${origin}", "${ref}", "${anon}")
var rows []map[string]any
_, err := c.From("todos").Select("*").Limit(10).Execute(ctx, &rows)`;
}

function Keys({ ref_: ref, keys, reload }) {
  const [minted, setMinted] = useState(null);
  const mint = useSubmit(async () => {
    const k = await api('POST', `/projects/${enc(ref)}/keys`, { role: 'service_role' });
    setMinted(k);
    announce('New service_role key created');
    reload();
  });
  const revoke = useSubmit(async () => {});
  const doRevoke = async (k) => {
    if (!confirm(`Revoke the ${k.role} key ${k.prefix}…? Apps using it stop working.`)) return;
    revoke.setError(null);
    try {
      await api('DELETE', `/projects/${enc(ref)}/keys/${enc(k.id)}`);
      announce('Key revoked');
      reload();
    } catch (e) { revoke.setError(e); }
  };
  const live = keys.filter((k) => !k.revoked_at);
  return (
    <div>
      {live.filter((k) => k.key).map((k) => <Secret key={k.id} label={`${k.role} key`} value={k.key} />)}
      <Grid caption="API keys" columns={['role', 'prefix', 'created_at']} rows={live} rowKey={(k) => k.id}
        actions={(k) => <button type="button" class="small danger" onClick={() => doRevoke(k)} aria-label={`Revoke ${k.role} key ${k.prefix}`}>Revoke</button>} />
      <p class="muted">Secret (service_role) keys are stored hashed and shown only when they are made.</p>
      <button type="button" class="secondary" onClick={mint.submit} disabled={mint.busy}>New service_role key</button>
      <ErrorBox error={mint.error || revoke.error} />
      {minted && <Secret label="new service_role key (shown once)" value={minted.key} />}
    </div>
  );
}

// Usage polls the per-minute counters while the page is open.
function Usage({ ref_: ref }) {
  const usage = useAsync(() => api('GET', `/projects/${enc(ref)}/usage?minutes=60`), [ref]);
  useEffect(() => {
    const t = setInterval(() => { if (!document.hidden) usage.reload(); }, 5000);
    return () => clearInterval(t);
  }, [usage.reload]);
  if (usage.error?.missing) {
    return <p class="notice" role="status">Usage charts are not available on this server yet.</p>;
  }
  if (usage.error && usage.data === undefined) return <ErrorBox error={usage.error} />;
  if (usage.data === undefined) return <p class="muted" role="status">Loading usage…</p>;
  return (
    <div>
      <UsageChart data={usage.data} />
      <button type="button" class="small secondary" onClick={usage.reload}>Refresh</button>
    </div>
  );
}
