// Members: admin accounts and their role in this project (owner,
// developer, viewer), enforced by the platform policy on every admin call.
import { useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { ErrorBox, Field, Page, Result, announce, useAsync, useSubmit } from '../ui.jsx';

const ROLES = ['owner', 'developer', 'viewer'];

export function Members({ ref_: ref }) {
  const members = useAsync(() => api('GET', `/projects/${enc(ref)}/members`), [ref]);
  return (
    <Page title="Members">
      <p class="muted">Viewers can look at everything but change nothing; developers change schema, data, rules and limits; owners also manage keys, members and can delete the project.</p>
      <Result state={members} what="Members">{(ms) => <MembersEditor key={JSON.stringify(ms)} ref_={ref} members={ms} onSaved={members.reload} />}</Result>
    </Page>
  );
}

function MembersEditor({ ref_: ref, members, onSaved }) {
  const [list, setList] = useState(members.map((m) => ({ email: m.email, role: m.role })));
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('viewer');
  const save = async (next) => {
    await api('PUT', `/projects/${enc(ref)}/members`, next);
    announce('Members saved');
    onSaved();
  };
  const add = useSubmit(async () => {
    const e = email.trim().toLowerCase();
    await save([...list.filter((m) => m.email !== e), { email: e, role }]);
    setEmail('');
  });
  const change = useSubmit(async () => save(list));
  return (
    <div>
      {list.length === 0 ? <p class="muted">No members: only platform admins can manage this project.</p> : (
        <form onSubmit={change.submit}>
          <table class="grid">
            <caption class="sr-only">Members</caption>
            <thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>{list.map((m, i) => (
              <tr key={m.email}>
                <td>{m.email}</td>
                <td><label class="sr-only" for={`member-role-${i}`}>Role of {m.email}</label>
                  <select id={`member-role-${i}`} value={m.role} onChange={(e) => setList(list.map((x, j) => (j === i ? { ...x, role: e.currentTarget.value } : x)))}>{ROLES.map((r) => <option key={r}>{r}</option>)}</select></td>
                <td class="row-actions"><button type="button" class="small danger" onClick={() => setList(list.filter((_, j) => j !== i))} aria-label={`Remove ${m.email}`}>Remove</button></td>
              </tr>
            ))}</tbody>
          </table>
          <div class="actions"><button type="submit" disabled={change.busy}>Save members</button></div>
          <ErrorBox error={change.error} />
        </form>
      )}
      <form class="card row-form" onSubmit={add.submit} aria-labelledby="add-member-title">
        <h2 id="add-member-title">Add a member</h2>
        <Field label="Admin account email" hint="The person needs an admin account first (a platform admin creates it under Accounts).">{(p) => <input {...p} name="member-email" type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} autocomplete="off" />}</Field>
        <Field label="Role">{(p) => <select {...p} name="member-role" value={role} onChange={(e) => setRole(e.currentTarget.value)}>{ROLES.map((r) => <option key={r}>{r}</option>)}</select>}</Field>
        <button type="submit" disabled={add.busy}>Add member</button>
        <ErrorBox error={add.error} />
      </form>
    </div>
  );
}
