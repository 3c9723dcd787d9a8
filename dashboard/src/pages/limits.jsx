// Rate limits per role (DESIGN.md §7.4): GCRA in Redis, global across
// instances. The platform's defaults apply to roles without a rule.
import { useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { ErrorBox, Field, Grid, Page, Result, announce, useAsync, useSubmit } from '../ui.jsx';

const PER = ['ip', 'user', 'key'];
const SCOPES = [['', 'data and auth API'], ['signin', 'sign-in / sign-up'], ['refresh', 'token refresh'], ['otp', 'one-time codes']];

export function RateLimits({ ref_: ref }) {
  const limits = useAsync(() => api('GET', `/projects/${enc(ref)}/rate-limits`), [ref]);
  return (
    <Page title="Rate limits">
      <Result state={limits} what="Rate limits">
        {(data) => <LimitsEditor key={JSON.stringify(data)} ref_={ref} data={data} onSaved={limits.reload} />}
      </Result>
    </Page>
  );
}

function LimitsEditor({ ref_: ref, data, onSaved }) {
  const [rules, setRules] = useState((data.rules || []).map((r) => ({ ...r, scope: r.scope || '' })));
  const set = (i, k, v) => setRules(rules.map((r, j) => (j === i ? { ...r, [k]: v } : r)));
  const { busy, error, submit } = useSubmit(async () => {
    const body = rules.map((r) => ({
      ...(r.scope ? { scope: r.scope } : {}), role: r.role.trim(), per: r.per,
      rate: Number(r.rate), period_seconds: Number(r.period_seconds), burst: Number(r.burst === '' ? r.rate : r.burst),
    }));
    await api('PUT', `/projects/${enc(ref)}/rate-limits`, { rules: body });
    announce('Rate limits saved');
    onSaved();
  });
  return (
    <form onSubmit={submit}>
      <p class="muted">Counters live in {data.backend === 'redis' ? 'Redis, shared by every instance' : 'this instance’s memory (no Redis configured)'}.</p>
      {rules.length === 0 && <p class="muted">No project rules: the platform defaults below apply.</p>}
      {rules.map((r, i) => (
        <fieldset class="policy-row" key={i}>
          <legend>Rule {i + 1}</legend>
          <Field label="Applies to" inline>{(p) => <select {...p} name={`limit-${i + 1}-scope`} value={r.scope} onChange={(e) => set(i, 'scope', e.currentTarget.value)}>{SCOPES.map(([v, l]) => <option key={v} value={v}>{l}</option>)}</select>}</Field>
          <Field label="Role" inline>{(p) => <input {...p} name={`limit-${i + 1}-role`} value={r.role} onInput={(e) => set(i, 'role', e.currentTarget.value)} required spellcheck={false} />}</Field>
          <Field label="Per" inline>{(p) => <select {...p} name={`limit-${i + 1}-per`} value={r.per} onChange={(e) => set(i, 'per', e.currentTarget.value)}>{PER.map((x) => <option key={x}>{x}</option>)}</select>}</Field>
          <Field label="Requests" inline>{(p) => <input {...p} name={`limit-${i + 1}-rate`} type="number" value={r.rate} onInput={(e) => set(i, 'rate', e.currentTarget.value)} required />}</Field>
          <Field label="Per seconds" inline>{(p) => <input {...p} name={`limit-${i + 1}-period`} type="number" value={r.period_seconds} onInput={(e) => set(i, 'period_seconds', e.currentTarget.value)} required />}</Field>
          <Field label="Burst" inline>{(p) => <input {...p} name={`limit-${i + 1}-burst`} type="number" value={r.burst} onInput={(e) => set(i, 'burst', e.currentTarget.value)} />}</Field>
          <button type="button" class="small secondary" onClick={() => setRules(rules.filter((_, j) => j !== i))} aria-label={`Remove rule ${i + 1}`}>Remove</button>
        </fieldset>
      ))}
      <button type="button" class="secondary" onClick={() => setRules([...rules, { scope: '', role: 'anon', per: 'ip', rate: 100, period_seconds: 1, burst: 100 }])}>Add rule</button>
      <div class="actions"><button type="submit" disabled={busy}>Save rate limits</button></div>
      <ErrorBox error={error} />
      {data.defaults?.length > 0 && (
        <>
          <h2>Platform defaults</h2>
          <Grid caption="Platform default limits" rows={data.defaults.map((d) => ({ scope: d.scope || 'api', role: d.role, per: d.per, rate: d.rate, period_seconds: d.period_seconds, burst: d.burst }))} />
        </>
      )}
    </form>
  );
}
