// Admin accounts (platform admins only): people need an account before a
// project owner can add them as members.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorBox, Field, Grid, Page, Result, announce, useAsync, useSubmit } from '../ui.jsx';

export function Accounts() {
  const list = useAsync(() => api('GET', '/admins?limit=1000'), []);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [platform, setPlatform] = useState(false);
  const { busy, error, submit } = useSubmit(async () => {
    await api('POST', '/admins', { email: email.trim(), password, platform_admin: platform });
    announce(`Account ${email} created`);
    setEmail(''); setPassword(''); setPlatform(false);
    list.reload();
  });
  return (
    <Page title="Admin accounts">
      <form class="card row-form" onSubmit={submit} aria-labelledby="new-account-title">
        <h2 id="new-account-title">New account</h2>
        <Field label="Email">{(p) => <input {...p} name="account-email" type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} autocomplete="off" />}</Field>
        <Field label="Password" hint="At least 10 characters.">{(p) => <input {...p} name="account-password" type="password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} autocomplete="new-password" />}</Field>
        <label class="check"><input type="checkbox" checked={platform} onChange={(e) => setPlatform(e.currentTarget.checked)} /> Platform admin (every project)</label>
        <button type="submit" disabled={busy}>Create account</button>
        <ErrorBox error={error} />
      </form>
      <Result state={list} what="Admin accounts">
        {(as) => <Grid caption="Admin accounts" rows={as.map((a) => ({ email: a.email, platform_admin: a.platform_admin ? 'yes' : '', created_at: new Date(a.created_at).toLocaleString() }))} rowKey={(a) => a.email} />}
      </Result>
    </Page>
  );
}
