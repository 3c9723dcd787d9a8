// Shared building blocks. Everything is plain HTML elements with labels,
// so the app works by keyboard and with a screen reader.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { BASE, navigate } from './router.js';

export function Link({ href, children, ...props }) {
  const onClick = (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return <a href={BASE + href} onClick={onClick} {...props}>{children}</a>;
}

// useAsync runs fn when deps change; reload() runs it again.
export function useAsync(fn, deps) {
  const [state, setState] = useState({ loading: true, data: undefined, error: null });
  const seq = useRef(0);
  const run = useCallback(async () => {
    const n = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await fn();
      if (n === seq.current) setState({ loading: false, data, error: null });
    } catch (error) {
      if (n === seq.current) setState({ loading: false, data: undefined, error });
    }
  }, deps);
  useEffect(() => { run(); }, [run]);
  return { ...state, reload: run };
}

// The page's one h1 takes focus when the page changes, so keyboard and
// screen-reader users start at the new content.
export function Page({ title, actions, children }) {
  const h = useRef(null);
  useEffect(() => {
    document.title = `${title} · Plinth`;
    h.current?.focus();
  }, [title]);
  return (
    <section class="page" aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title" tabIndex={-1} ref={h}>{title}</h1>
        {actions && <div class="actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

export function Loading({ what = 'Loading' }) {
  return <p class="muted" role="status">{what}…</p>;
}

export function ErrorBox({ error, id }) {
  if (!error) return null;
  const detail = error.details && typeof error.details === 'object' ? JSON.stringify(error.details) : error.details;
  return (
    <div class="error" role="alert" id={id}>
      <strong>{error.message}</strong>
      {error.code && <span class="code"> ({error.code})</span>}
      {detail && <div class="detail">{detail}</div>}
      {error.hint && <div class="hint">{String(error.hint)}</div>}
    </div>
  );
}

export function NotAvailable({ what }) {
  return (
    <div class="notice" role="status">
      <strong>{what} is not available on this server.</strong>
      <div class="muted">The admin API does not offer this endpoint (yet). Everything else keeps working.</div>
    </div>
  );
}

// Result shows a loading state, a "not available" notice for endpoints the
// server lacks, an error, or the children's rendering of data.
export function Result({ state, what, children }) {
  if (state.error?.missing) return <NotAvailable what={what} />;
  if (state.error) return <ErrorBox error={state.error} />;
  if (state.data === undefined) return <Loading />;
  return children(state.data);
}

const liveListeners = new Set();
// announce says something to screen readers (and shows it briefly).
export function announce(msg) { liveListeners.forEach((f) => f(msg)); }
export function LiveRegion() {
  const [msg, setMsg] = useState('');
  useEffect(() => {
    let t;
    const f = (m) => { setMsg(m); clearTimeout(t); t = setTimeout(() => setMsg(''), 4000); };
    liveListeners.add(f);
    return () => { liveListeners.delete(f); clearTimeout(t); };
  }, []);
  return <div class="toast" role="status" aria-live="polite">{msg}</div>;
}

export function CopyButton({ text, label }) {
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      announce(`${label} copied`);
    } catch {
      announce('Copy failed: select the text and copy it by hand');
    }
  };
  return <button type="button" class="small" onClick={copy} aria-label={`Copy ${label}`}>Copy</button>;
}

export function Secret({ label, value }) {
  return (
    <div class="secret">
      <span class="label" id={`lbl-${label.replace(/\W+/g, '-')}`}>{label}</span>
      <code aria-labelledby={`lbl-${label.replace(/\W+/g, '-')}`}>{value}</code>
      <CopyButton text={value} label={label} />
    </div>
  );
}

export function CodeBlock({ code, label }) {
  return (
    <div class="codeblock">
      <div class="codeblock-head"><span>{label}</span><CopyButton text={code} label={`${label} snippet`} /></div>
      <pre tabIndex={0} aria-label={`${label} snippet`}><code>{code}</code></pre>
    </div>
  );
}

let fieldSeq = 0;
// Field labels one control and ties its hint and error to it.
export function Field({ label, hint, error, children, inline }) {
  const [id] = useState(() => `f${++fieldSeq}`);
  const describedBy = [hint && `${id}-hint`, error && `${id}-err`].filter(Boolean).join(' ') || undefined;
  const child = typeof children === 'function' ? children({ id, 'aria-describedby': describedBy, 'aria-invalid': error ? 'true' : undefined }) : children;
  return (
    <div class={inline ? 'field inline' : 'field'}>
      <label for={id}>{label}</label>
      {child}
      {hint && <small id={`${id}-hint`} class="muted">{hint}</small>}
      {error && <small id={`${id}-err`} class="field-error">{error}</small>}
    </div>
  );
}

// Dialog is a native modal <dialog>: focus stays inside, Esc closes it.
export function Dialog({ open, title, onClose, children }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-labelledby="dialog-title" onClose={onClose} onCancel={onClose}>
      {open && (
        <div>
          <h2 id="dialog-title">{title}</h2>
          {children}
        </div>
      )}
    </dialog>
  );
}

// Grid renders rows (objects) as an accessible table.
export function Grid({ columns, rows, caption, rowKey, actions, empty = 'No rows.' }) {
  const cols = columns || (rows.length ? Object.keys(rows[0]) : []);
  if (!rows.length) return <p class="muted">{empty}</p>;
  return (
    <div class="grid-wrap" tabIndex={0} role="region" aria-label={caption || 'Results'}>
      <table class="grid">
        {caption && <caption class="sr-only">{caption}</caption>}
        <thead><tr>{cols.map((c) => <th scope="col" key={c}>{c}</th>)}{actions && <th scope="col"><span class="sr-only">Actions</span></th>}</tr></thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={rowKey ? rowKey(r) : i}>
              {cols.map((c) => <td key={c}>{cell(r[c])}</td>)}
              {actions && <td class="row-actions">{actions(r, i)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function cell(v) {
  if (v === null || v === undefined) return <span class="null">NULL</span>;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

// Form wraps a <form> whose submit runs an async action with a busy state.
export function useSubmit(action) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e?.preventDefault?.();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, submit };
}
