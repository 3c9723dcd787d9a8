import { useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { Dialog, ErrorBox, Field, Link, Page, Result, Secret, announce, useAsync, useSubmit } from '../ui.jsx';

export function Projects() {
  const list = useAsync(() => api('GET', '/projects?limit=1000'), []);
  const [created, setCreated] = useState(null);
  const [deleting, setDeleting] = useState(null);

  return (
    <Page title="Projects">
      <CreateProject onCreated={(p) => { setCreated(p); list.reload(); }} />
      {created && (
        <section class="card created" aria-labelledby="created-title">
          <h2 id="created-title">Project {created.ref} created</h2>
          <p>Copy the keys now: the <strong>service_role</strong> key is secret and is shown only this once.</p>
          <Secret label="anon key" value={created.api_keys.anon} />
          <Secret label="service_role key" value={created.api_keys.service_role} />
          <p><Link href={`/p/${created.ref}`}>Open {created.ref}</Link></p>
        </section>
      )}
      <h2>Your projects</h2>
      <Result state={list} what="The project list">
        {(ps) => ps.length === 0 ? <p class="muted">No projects yet. Create one above.</p> : (
          <table class="grid">
            <caption class="sr-only">Projects</caption>
            <thead><tr><th scope="col">Ref</th><th scope="col">Name</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {ps.map((p) => (
                <tr key={p.ref}>
                  <td><Link href={`/p/${p.ref}`}>{p.ref}</Link></td>
                  <td>{p.name}</td>
                  <td><time dateTime={p.created_at}>{new Date(p.created_at).toLocaleString()}</time></td>
                  <td class="row-actions"><button type="button" class="small danger" onClick={() => setDeleting(p.ref)} aria-label={`Delete project ${p.ref}`}>Delete</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Result>
      <DeleteProject refName={deleting} onClose={() => setDeleting(null)} onDeleted={() => { setDeleting(null); list.reload(); }} />
    </Page>
  );
}

function CreateProject({ onCreated }) {
  const [ref, setRef] = useState('');
  const [name, setName] = useState('');
  const { busy, error, submit } = useSubmit(async () => {
    const p = await api('POST', '/projects', { ref: ref.trim(), name: name.trim() });
    setRef('');
    setName('');
    announce(`Project ${p.ref} created`);
    onCreated(p);
  });
  return (
    <form class="card row-form" onSubmit={submit} aria-labelledby="new-project-title">
      <h2 id="new-project-title">New project</h2>
      <Field label="Ref" hint="3–40 characters: a–z, 0–9 and '-'; used in URLs." error={error && /ref/i.test(error.message) ? error.message : null}>
        {(p) => <input {...p} name="ref" required value={ref} onInput={(e) => setRef(e.currentTarget.value)} autocomplete="off" spellcheck={false} />}
      </Field>
      <Field label="Name">
        {(p) => <input {...p} name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} autocomplete="off" />}
      </Field>
      <button type="submit" disabled={busy}>{busy ? 'Creating…' : 'Create project'}</button>
      <ErrorBox error={error} />
    </form>
  );
}

// DeleteProject asks for the ref to be typed, so a project is never dropped
// by a stray click.
function DeleteProject({ refName, onClose, onDeleted }) {
  const [typed, setTyped] = useState('');
  const { busy, error, setError, submit } = useSubmit(async () => {
    await api('DELETE', `/projects/${enc(refName)}`);
    announce(`Project ${refName} deleted`);
    setTyped('');
    onDeleted();
  });
  const close = () => { setTyped(''); setError(null); onClose(); };
  return (
    <Dialog open={!!refName} title={`Delete project ${refName}`} onClose={close}>
      <form onSubmit={submit}>
        <p>This drops the project's schema, roles, keys, rules and users. It cannot be undone.</p>
        <Field label={`Type ${refName} to confirm`}>
          {(p) => <input {...p} name="confirm" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} autocomplete="off" spellcheck={false} />}
        </Field>
        <ErrorBox error={error} />
        <div class="actions">
          <button type="submit" class="danger" disabled={busy || typed !== refName}>Delete {refName}</button>
          <button type="button" class="secondary" onClick={close}>Cancel</button>
        </div>
      </form>
    </Dialog>
  );
}
