// A tiny history-API router: the server answers every /dashboard/* path
// with index.html, so deep links and reloads land on the right page.
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/dashboard';
const listeners = new Set();

function current() {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : '/';
  return { path: path || '/', query: new URLSearchParams(location.search) };
}

export function navigate(to, { replace = false } = {}) {
  history[replace ? 'replaceState' : 'pushState'](null, '', BASE + to);
  listeners.forEach((f) => f());
}

export function useLocation() {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const f = () => setLoc(current());
    listeners.add(f);
    addEventListener('popstate', f);
    return () => { listeners.delete(f); removeEventListener('popstate', f); };
  }, []);
  return loc;
}

// match('/p/:ref/tables', '/p/demo/tables') -> {ref: 'demo'} or null.
export function match(pattern, path) {
  const ps = pattern.split('/'), xs = path.replace(/\/$/, '').split('/');
  if (ps.length !== xs.length) return null;
  const out = {};
  for (let i = 0; i < ps.length; i++) {
    if (ps[i].startsWith(':')) out[ps[i].slice(1)] = decodeURIComponent(xs[i]);
    else if (ps[i] !== xs[i]) return null;
  }
  return out;
}
