// Access rules (DESIGN.md §7): policies {role, table, action, condition}
// and role inheritance, validated by the server on save; plus a "test
// access" panel backed by rules/check that says why.
import { useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { ErrorBox, Field, Page, Result, announce, useAsync, useSubmit } from '../ui.jsx';

const ACTIONS = ['select', 'insert', 'update', 'delete', '*'];

export function Rules({ ref_: ref }) {
  const rules = useAsync(() => api('GET', `/projects/${enc(ref)}/rules`), [ref]);
  return (
    <Page title="Access rules">
      <Result state={rules} what="The access rules editor">
        {(data) => <RulesEditor key={JSON.stringify(data)} ref_={ref} initial={data} onSaved={rules.reload} />}
      </Result>
      {!rules.error?.missing && <TestAccess ref_={ref} />}
    </Page>
  );
}

function RulesEditor({ ref_: ref, initial, onSaved }) {
  const [policies, setPolicies] = useState(initial.policies || []);
  const [roles, setRoles] = useState(initial.roles || []);
  const setP = (i, k, v) => setPolicies(policies.map((p, j) => (j === i ? { ...p, [k]: v } : p)));
  const setR = (i, k, v) => setRoles(roles.map((r, j) => (j === i ? { ...r, [k]: v } : r)));
  const { busy, error, submit } = useSubmit(async () => {
    await api('PUT', `/projects/${enc(ref)}/rules`, { policies, roles });
    announce('Rules saved');
    onSaved();
  });
  return (
    <form onSubmit={submit} aria-labelledby="policies-title">
      <h2 id="policies-title">Policies</h2>
      <p class="muted">Nothing is allowed unless a policy allows it. A condition is a data API filter, e.g. <code>owner_id=eq.{'{auth.uid}'}</code>; empty means every row.</p>
      {policies.length === 0 && <p class="muted">No policies: anon and authenticated callers can do nothing.</p>}
      {policies.map((p, i) => (
        <fieldset class="policy-row" key={i}>
          <legend>Policy {i + 1}</legend>
          <Field label="Role" inline>{(a) => <input {...a} name={`policy-${i + 1}-role`} value={p.role} onInput={(e) => setP(i, 'role', e.currentTarget.value)} required spellcheck={false} />}</Field>
          <Field label="Table" inline>{(a) => <input {...a} name={`policy-${i + 1}-table`} value={p.table} onInput={(e) => setP(i, 'table', e.currentTarget.value)} required spellcheck={false} />}</Field>
          <Field label="Action" inline>{(a) => <select {...a} name={`policy-${i + 1}-action`} value={p.action} onChange={(e) => setP(i, 'action', e.currentTarget.value)}>{ACTIONS.map((x) => <option key={x}>{x}</option>)}</select>}</Field>
          <Field label="Condition" inline>{(a) => <input {...a} name={`policy-${i + 1}-condition`} value={p.condition || ''} onInput={(e) => setP(i, 'condition', e.currentTarget.value)} spellcheck={false} class="wide" />}</Field>
          <button type="button" class="small secondary" onClick={() => setPolicies(policies.filter((_, j) => j !== i))} aria-label={`Remove policy ${i + 1}`}>Remove</button>
        </fieldset>
      ))}
      <button type="button" class="secondary" onClick={() => setPolicies([...policies, { role: 'authenticated', table: '', action: 'select', condition: '' }])}>Add policy</button>

      <h2>Custom roles</h2>
      {roles.map((r, i) => (
        <fieldset class="policy-row" key={i}>
          <legend>Role {i + 1}</legend>
          <Field label="Role" inline>{(a) => <input {...a} name={`role-${i + 1}-name`} value={r.role} onInput={(e) => setR(i, 'role', e.currentTarget.value)} required spellcheck={false} />}</Field>
          <Field label="Inherits" inline>{(a) => <input {...a} name={`role-${i + 1}-inherits`} value={r.inherits || ''} onInput={(e) => setR(i, 'inherits', e.currentTarget.value)} spellcheck={false} />}</Field>
          <button type="button" class="small secondary" onClick={() => setRoles(roles.filter((_, j) => j !== i))} aria-label={`Remove role ${i + 1}`}>Remove</button>
        </fieldset>
      ))}
      <button type="button" class="secondary" onClick={() => setRoles([...roles, { role: '', inherits: 'authenticated' }])}>Add role</button>
      <div class="actions">
        <button type="submit" disabled={busy}>Save rules</button>
      </div>
      <ErrorBox error={error} />
    </form>
  );
}

function TestAccess({ ref_: ref }) {
  const [who, setWho] = useState('anon');
  const [table, setTable] = useState('');
  const [action, setAction] = useState('select');
  const [result, setResult] = useState(null);
  const { busy, error, submit } = useSubmit(async () => {
    setResult(null);
    const w = who.trim();
    const body = /^[0-9a-f]{8}-[0-9a-f]{4}-/i.test(w) ? { user_id: w } : { role: w };
    setResult(await api('POST', `/projects/${enc(ref)}/rules/check`, { ...body, table: table.trim(), action }));
  });
  return (
    <section class="card" aria-labelledby="test-access-title">
      <h2 id="test-access-title">Test access</h2>
      <form class="row-form" onSubmit={submit}>
        <Field label="Role or user id" inline>{(p) => <input {...p} name="check-who" value={who} onInput={(e) => setWho(e.currentTarget.value)} required spellcheck={false} />}</Field>
        <Field label="Table" inline>{(p) => <input {...p} name="check-table" value={table} onInput={(e) => setTable(e.currentTarget.value)} required spellcheck={false} />}</Field>
        <Field label="Action" inline>{(p) => <select {...p} name="check-action" value={action} onChange={(e) => setAction(e.currentTarget.value)}>{ACTIONS.filter((a) => a !== '*').map((x) => <option key={x}>{x}</option>)}</select>}</Field>
        <button type="submit" disabled={busy}>Check</button>
      </form>
      <ErrorBox error={error} />
      {result && (
        <div class={result.allowed ? 'verdict allowed' : 'verdict denied'} role="status">
          <strong>{result.allowed ? 'Allowed' : 'Denied'}</strong>
          {result.reason && <p>{result.reason}</p>}
          {result.subjects?.length > 0 && <p>Acting as: {result.subjects.join(', ')}</p>}
          {result.matched?.length > 0 && (
            <ul>{result.matched.map((m, i) => <li key={i}><code>{m.role} · {m.table} · {m.action}</code>{m.condition ? <> when <code>{m.condition}</code></> : ' (every row)'}</li>)}</ul>
          )}
          {result.allowed && <p>Row condition: {result.condition ? <code>{result.condition}</code> : 'none (every row)'}</p>}
        </div>
      )}
    </section>
  );
}
