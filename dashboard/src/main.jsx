import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { api, enc, setCsrf, setUnauthorizedHandler } from './api.js';
import { match, navigate, useLocation } from './router.js';
import { Link, LiveRegion, Loading, useAsync } from './ui.jsx';
import { SignIn } from './pages/signin.jsx';
import { Projects } from './pages/projects.jsx';
import { ProjectHome } from './pages/home.jsx';
import { Tables } from './pages/tables.jsx';
import { DataBrowser } from './pages/data.jsx';
import { SQLEditor } from './pages/sql.jsx';
import { Users } from './pages/users.jsx';
import { Rules } from './pages/rules.jsx';
import { RateLimits } from './pages/limits.jsx';
import { APIDocs } from './pages/docs.jsx';
import { Settings } from './pages/settings.jsx';
import { Audit } from './pages/audit.jsx';
import { Members } from './pages/members.jsx';
import { Accounts } from './pages/accounts.jsx';

// Project pages: path below /p/:ref, nav label, component.
const projectPages = [
  ['', 'Overview', ProjectHome],
  ['/tables', 'Table editor', Tables],
  ['/data', 'Data', DataBrowser],
  ['/sql', 'SQL editor', SQLEditor],
  ['/users', 'Users', Users],
  ['/rules', 'Access rules', Rules],
  ['/limits', 'Rate limits', RateLimits],
  ['/docs', 'API docs', APIDocs],
  ['/settings', 'Settings', Settings],
  ['/members', 'Members', Members],
  ['/audit', 'Audit log', Audit],
];

function App() {
  const [session, setSession] = useState(undefined); // undefined: checking; null: signed out
  const loc = useLocation();

  useEffect(() => {
    setUnauthorizedHandler(() => { setCsrf(''); setSession(null); });
    api('GET', '/auth/session', undefined, { quiet401: true })
      .then((s) => { setCsrf(s.csrf_token); setSession(s); })
      .catch(() => setSession(null));
  }, []);

  if (session === undefined) return <main id="main"><Loading what="Checking your session" /></main>;
  if (session === null) {
    return (
      <>
        <main id="main"><SignIn onSignedIn={(s) => { setCsrf(s.csrf_token); setSession(s); }} /></main>
        <LiveRegion />
      </>
    );
  }

  const signOut = async () => {
    try { await api('DELETE', '/auth/session'); } catch { /* the session is gone either way */ }
    setCsrf('');
    setSession(null);
    navigate('/', { replace: true });
  };

  let ref = null, page = null;
  for (const [suffix, , Comp] of projectPages) {
    const m = match('/p/:ref' + suffix, loc.path);
    if (m) { ref = m.ref; page = <Comp key={ref + suffix} ref_={m.ref} query={loc.query} session={session} />; break; }
  }
  if (!page) page = loc.path.startsWith('/accounts') && session.platform_admin ? <Accounts /> : <Projects session={session} />;

  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="topbar">
        <Link href="/" class="brand">Plinth</Link>
        {ref && <span class="crumb" aria-label="Current project">/ <Link href={`/p/${ref}`}>{ref}</Link></span>}
        <span class="spacer" />
        <nav aria-label="Platform" class="topnav">
          <Link href="/" aria-current={loc.path === '/' ? 'page' : undefined}>Projects</Link>
          {session.platform_admin && <Link href="/accounts" aria-current={loc.path.startsWith('/accounts') ? 'page' : undefined}>Accounts</Link>}
        </nav>
        <span class="who">{session.admin?.email || 'admin token'}{session.platform_admin ? ' (platform admin)' : ''}</span>
        <button type="button" class="small secondary" onClick={signOut}>Sign out</button>
      </header>
      <div class={ref ? 'layout with-nav' : 'layout'}>
        {ref && (
          <nav class="sidenav" aria-label="Project">
            <ul>
              {projectPages.map(([suffix, label]) => {
                const href = `/p/${ref}${suffix}`;
                const current = loc.path.replace(/\/$/, '') === href;
                return <li key={suffix}><Link href={href} aria-current={current ? 'page' : undefined}>{label}</Link></li>;
              })}
            </ul>
          </nav>
        )}
        <main id="main" tabIndex={-1}>{ref && <RoleBanner key={ref} ref_={ref} />}{page}</main>
      </div>
      <LiveRegion />
    </>
  );
}

// RoleBanner says up front when the signed-in member may only look.
function RoleBanner({ ref_: ref }) {
  const p = useAsync(() => api('GET', `/projects/${enc(ref)}`), [ref]);
  if (p.data?.your_role !== 'viewer') return null;
  return <p class="notice">You are a <strong>viewer</strong> of this project: you can look at everything, but changes will be refused.</p>;
}

render(<App />, document.getElementById('app'));
