// End users of the project: list (paged, searchable by email), create,
// delete, and custom roles (which the access rules give permissions to).
import { useState } from 'preact/hooks';
import { api, enc, total } from '../api.js';
import { Dialog, ErrorBox, Field, Page, Result, announce, useAsync, useSubmit } from '../ui.jsx';

const PAGE = 50;

export function Users({ ref_: ref }) {
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  const [offset, setOffset] = useState(0);
  const [rolesFor, setRolesFor] = useState(null);
  const users = useAsync(async () => {
    const q = `limit=${PAGE}&offset=${offset}` + (applied ? `&email=${enc(applied)}` : '');
    const r = await api('GET', `/projects/${enc(ref)}/users?${q}`, undefined, { raw: true });
    const rows = Array.isArray(r.data) ? r.data : r.data?.users || [];
    return { rows, total: total(r.headers) ?? r.data?.total ?? null };
  }, [ref, applied, offset]);

  const remove = async (u) => {
    if (!confirm(`Delete user ${u.email}? Their sessions end at once.`)) return;
    try {
      await api('DELETE', `/projects/${enc(ref)}/users/${enc(u.id)}`);
      announce(`User ${u.email} deleted`);
      users.reload();
    } catch (e) { alert(e.message); }
  };

  return (
    <Page title="Users">
      {!users.error?.missing && <CreateUser ref_={ref} onCreated={users.reload} />}
      <form class="row-form" role="search" onSubmit={(e) => { e.preventDefault(); setOffset(0); setApplied(search.trim()); }}>
        <Field label="Search by email" inline>{(p) => <input {...p} type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />}</Field>
        <button type="submit" class="secondary">Search</button>
      </form>
      <Result state={users} what="User management">
        {({ rows, total: n }) => (
          <div>
            {rows.length === 0 ? <p class="muted">No users{applied ? ` matching “${applied}”` : ''}.</p> : (
              <div class="grid-wrap" tabIndex={0} role="region" aria-label="Users">
                <table class="grid">
                  <thead><tr><th scope="col">Email</th><th scope="col">Roles</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
                  <tbody>
                    {rows.map((u) => (
                      <tr key={u.id}>
                        <td>{u.email}</td>
                        <td>{rolesOf(u).join(', ') || <span class="muted">authenticated</span>}</td>
                        <td>{u.created_at ? new Date(u.created_at).toLocaleString() : ''}</td>
                        <td class="row-actions">
                          <button type="button" class="small secondary" onClick={() => setRolesFor(u)} aria-label={`Roles of ${u.email}`}>Roles</button>
                          <button type="button" class="small danger" onClick={() => remove(u)} aria-label={`Delete user ${u.email}`}>Delete</button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            <nav class="pager" aria-label="Pages">
              <button type="button" class="small secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>Previous</button>
              <span>{n != null ? `${n} user${n === 1 ? '' : 's'}` : ''}</span>
              <button type="button" class="small secondary" disabled={rows.length < PAGE} onClick={() => setOffset(offset + PAGE)}>Next</button>
            </nav>
          </div>
        )}
      </Result>
      <RolesDialog ref_={ref} user={rolesFor} onClose={() => setRolesFor(null)} onSaved={() => { setRolesFor(null); users.reload(); }} />
    </Page>
  );
}

const rolesOf = (u) => u.roles || u.app_metadata?.roles || [];

function CreateUser({ ref_: ref, onCreated }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, submit } = useSubmit(async () => {
    await api('POST', `/projects/${enc(ref)}/users`, { email: email.trim(), password });
    announce(`User ${email} created`);
    setEmail(''); setPassword('');
    onCreated();
  });
  return (
    <form class="card row-form" onSubmit={submit} aria-labelledby="new-user-title">
      <h2 id="new-user-title">New user</h2>
      <Field label="Email">{(p) => <input {...p} name="user-email" type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} autocomplete="off" />}</Field>
      <Field label="Password">{(p) => <input {...p} name="user-password" type="password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} autocomplete="new-password" />}</Field>
      <button type="submit" disabled={busy}>Create user</button>
      <ErrorBox error={error} />
    </form>
  );
}

function RolesDialog({ ref_: ref, user, onClose, onSaved }) {
  const [roles, setRoles] = useState('');
  const [shown, setShown] = useState(null);
  if (user && shown !== user.id) { setShown(user.id); setRoles(rolesOf(user).join(', ')); }
  const { busy, error, setError, submit } = useSubmit(async () => {
    const list = roles.split(',').map((s) => s.trim()).filter(Boolean);
    await api('PUT', `/projects/${enc(ref)}/users/${enc(user.id)}/roles`, { roles: list });
    announce('Roles saved');
    onSaved();
  });
  const close = () => { setError(null); setShown(null); onClose(); };
  return (
    <Dialog open={!!user} title={`Roles of ${user?.email || ''}`} onClose={close}>
      <form onSubmit={submit}>
        <Field label="Custom roles" hint="Comma-separated role names defined in Access rules, e.g. editor. Empty: plain authenticated user.">
          {(p) => <input {...p} value={roles} onInput={(e) => setRoles(e.currentTarget.value)} spellcheck={false} />}
        </Field>
        <ErrorBox error={error} />
        <div class="actions">
          <button type="submit" disabled={busy}>Save roles</button>
          <button type="button" class="secondary" onClick={close}>Cancel</button>
        </div>
      </form>
    </Dialog>
  );
}
