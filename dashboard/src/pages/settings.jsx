// Project settings: CORS origins, max rows, end-user auth and the rate
// limiter's behaviour when Redis is down.
import { useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { ErrorBox, Field, Page, Result, announce, useAsync, useSubmit } from '../ui.jsx';

export function Settings({ ref_: ref }) {
  const st = useAsync(() => api('GET', `/projects/${enc(ref)}/settings`), [ref]);
  return (
    <Page title="Settings">
      <Result state={st} what="Settings">{(s) => <SettingsForm key={JSON.stringify(s)} ref_={ref} s={s} onSaved={st.reload} />}</Result>
    </Page>
  );
}

const tri = (v) => (v === true ? 'true' : v === false ? 'false' : '');
const fromTri = (v) => (v === 'true' ? true : v === 'false' ? false : undefined);

function SettingsForm({ ref_: ref, s, onSaved }) {
  const [cors, setCors] = useState((s.cors_origins || []).join('\n'));
  const [maxRows, setMaxRows] = useState(s.max_rows == null ? '' : String(s.max_rows));
  const [autoConfirm, setAutoConfirm] = useState(tri(s.auth?.auto_confirm));
  const [allowSignup, setAllowSignup] = useState(tri(s.auth?.allow_signup));
  const [anonymous, setAnonymous] = useState(tri(s.auth?.anonymous_sign_ins));
  const [jwtExpiry, setJwtExpiry] = useState(s.auth?.jwt_expiry_seconds ?? '');
  const [reuse, setReuse] = useState(s.auth?.refresh_reuse_seconds ?? '');
  const [fail, setFail] = useState(s.rate_limit_fail || '');
  const { busy, error, submit } = useSubmit(async () => {
    const auth = {};
    if (fromTri(autoConfirm) !== undefined) auth.auto_confirm = fromTri(autoConfirm);
    if (fromTri(allowSignup) !== undefined) auth.allow_signup = fromTri(allowSignup);
    if (fromTri(anonymous) !== undefined) auth.anonymous_sign_ins = fromTri(anonymous);
    if (String(jwtExpiry).trim() !== '') auth.jwt_expiry_seconds = Number(jwtExpiry);
    if (String(reuse).trim() !== '') auth.refresh_reuse_seconds = Number(reuse);
    const mr = maxRows.trim();
    await api('PATCH', `/projects/${enc(ref)}/settings`, {
      cors_origins: cors.split(/[\n,]/).map((x) => x.trim()).filter(Boolean),
      max_rows: mr === '' ? null : (/^\d+$/.test(mr) ? Number(mr) : mr),
      auth,
      rate_limit_fail: fail,
    });
    announce('Settings saved');
    onSaved();
  });
  const yesNo = (label, value, set, name) => (
    <Field label={label}>{(p) => <select {...p} name={name} value={value} onChange={(e) => set(e.currentTarget.value)}><option value="">platform default</option><option value="true">yes</option><option value="false">no</option></select>}</Field>
  );
  return (
    <form onSubmit={submit} class="settings">
      <fieldset><legend>Data API</legend>
        <Field label="CORS allowed origins" hint="One per line; * allows every origin.">{(p) => <textarea {...p} name="cors" rows={3} value={cors} onInput={(e) => setCors(e.currentTarget.value)} spellcheck={false} />}</Field>
        <Field label="Max rows per response" hint="Empty: the platform default.">{(p) => <input {...p} name="max-rows" inputMode="numeric" value={maxRows} onInput={(e) => setMaxRows(e.currentTarget.value)} />}</Field>
      </fieldset>
      <fieldset><legend>End-user auth</legend>
        {yesNo('Confirm new users automatically', autoConfirm, setAutoConfirm, 'auto-confirm')}
        {yesNo('Allow sign-up', allowSignup, setAllowSignup, 'allow-signup')}
        {yesNo('Allow anonymous sign-ins', anonymous, setAnonymous, 'anonymous-sign-ins')}
        <Field label="Access token lifetime (seconds)" hint="60 to 604800">{(p) => <input {...p} name="jwt-expiry" type="number" value={jwtExpiry} onInput={(e) => setJwtExpiry(e.currentTarget.value)} />}</Field>
        <Field label="Refresh token reuse window (seconds)" hint="0 to 3600">{(p) => <input {...p} name="refresh-reuse" type="number" value={reuse} onInput={(e) => setReuse(e.currentTarget.value)} />}</Field>
      </fieldset>
      <fieldset><legend>Rate limiting</legend>
        <Field label="When Redis is unreachable">{(p) => <select {...p} name="rate-limit-fail" value={fail} onChange={(e) => setFail(e.currentTarget.value)}><option value="">platform default</option><option value="open">let requests through (fail open)</option><option value="closed">refuse requests (fail closed)</option></select>}</Field>
      </fieldset>
      <ErrorBox error={error} />
      <button type="submit" disabled={busy}>Save settings</button>
    </form>
  );
}
