import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorBox, Field, Page, useSubmit } from '../ui.jsx';

export function SignIn({ onSignedIn }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, submit } = useSubmit(async () => {
    const s = await api('POST', '/auth/session', { email, password }, { quiet401: true });
    onSignedIn(s);
  });
  return (
    <div class="signin">
      <Page title="Sign in to Plinth">
        <form onSubmit={submit} class="card" aria-describedby={error ? 'signin-error' : undefined}>
          <Field label="Email">
            {(p) => <input {...p} type="email" name="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />}
          </Field>
          <Field label="Password">
            {(p) => <input {...p} type="password" name="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />}
          </Field>
          <ErrorBox error={error} id="signin-error" />
          <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
        </form>
      </Page>
    </div>
  );
}
