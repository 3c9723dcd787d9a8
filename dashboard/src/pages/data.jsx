// The data browser: a server-side paginated grid over the admin API's data
// proxy (/admin/v1/projects/{ref}/rest/v1, the project's data API run as its
// service_role for signed-in admins). Filters and sort map one to one to the
// data API grammar; counts are Postgres' estimates, so huge tables stay fast.
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, api, enc, total } from '../api.js';
import { ErrorBox, Field, Page, Result, announce, cell, useAsync } from '../ui.jsx';
import { navigate } from '../router.js';

const PAGE = 50;
const OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'is', 'in'];

async function loadTables(ref) {
  try {
    const data = await api('GET', `/projects/${enc(ref)}/tables`);
    return (Array.isArray(data) ? data : data.tables || []).map((t) => ({ name: t.name, columns: t.columns || [] }));
  } catch (e) {
    if (!e.missing) throw e;
  }
  // Without the table editor API, the OpenAPI document names the tables.
  const doc = await api('GET', `/projects/${enc(ref)}/rest/v1/`, undefined, { accept: 'application/openapi+json, application/json' });
  const defs = doc?.definitions || doc?.components?.schemas || {};
  return Object.entries(defs).map(([name, s]) => ({
    name,
    columns: Object.entries(s.properties || {}).map(([c, p]) => ({ name: c, type: p.format || p.type, primary_key: /<pk\/>/.test(p.description || '') })),
  }));
}

export function DataBrowser({ ref_: ref, query }) {
  const tables = useAsync(() => loadTables(ref), [ref]);
  const name = query.get('table') || '';
  return (
    <Page title="Data">
      <Result state={tables} what="The data browser">
        {(list) => (
          <div>
            <Field label="Table" inline>
              {(p) => (
                <select {...p} value={name} onChange={(e) => navigate(`/p/${ref}/data?table=${enc(e.currentTarget.value)}`)}>
                  <option value="">(choose a table)</option>
                  {list.map((t) => <option key={t.name} value={t.name}>{t.name}</option>)}
                </select>
              )}
            </Field>
            {list.length === 0 && <p class="muted">This project has no tables yet: create one in the table editor.</p>}
            {name && list.find((t) => t.name === name) && <TableData key={name} ref_={ref} table={list.find((t) => t.name === name)} />}
          </div>
        )}
      </Result>
    </Page>
  );
}

// Values typed into a form are text; send JSON the column's type expects.
function toJSON(value, type = '') {
  const t = type.toLowerCase();
  if (/^(smallint|integer|bigint|int[248]?|numeric|real|double precision|float[48]?|decimal)/.test(t) && value.trim() !== '' && !isNaN(Number(value))) return Number(value);
  if (/^bool/.test(t)) { if (value === 'true') return true; if (value === 'false') return false; }
  if (/^jsonb?$/.test(t) || t.endsWith('[]')) { try { return JSON.parse(value); } catch { return value; } }
  return value;
}

function editable(v) {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function TableData({ ref_: ref, table }) {
  const cols = table.columns.map((c) => c.name);
  const pk = table.columns.filter((c) => c.primary_key || c.pk).map((c) => c.name);
  const [offset, setOffset] = useState(0);
  const [filters, setFilters] = useState([]); // {column, op, value}
  const [draft, setDraft] = useState({ column: cols[0] || '', op: 'eq', value: '' });
  const [order, setOrder] = useState({ column: pk[0] || '', dir: 'asc' });
  const [editing, setEditing] = useState(null); // row index or 'new'
  const base = `/projects/${enc(ref)}/rest/v1/${enc(table.name)}`;

  const qs = () => {
    const q = filters.map((f) => `${enc(f.column)}=${f.op}.${enc(f.value)}`);
    if (order.column) q.push(`order=${enc(order.column)}.${order.dir}`);
    q.push(`limit=${PAGE}`, `offset=${offset}`);
    return q.join('&');
  };
  const rows = useAsync(async () => {
    const r = await api('GET', `${base}?${qs()}`, undefined, { raw: true, headers: { Prefer: 'count=estimated' } });
    return { rows: r.data, total: total(r.headers) };
  }, [base, JSON.stringify(filters), order.column, order.dir, offset]);

  const match = (row) => pk.map((k) => `${enc(k)}=eq.${enc(editable(row[k]))}`).join('&');
  const remove = async (row) => {
    if (!confirm(`Delete this row of ${table.name}?`)) return;
    try {
      await api('DELETE', `${base}?${match(row)}`);
      announce('Row deleted');
      rows.reload();
    } catch (e) { setRowError(e); }
  };
  const [rowError, setRowError] = useState(null);

  const addFilter = (e) => {
    e.preventDefault();
    if (!draft.column) return;
    setFilters([...filters, draft]);
    setOffset(0);
    setDraft({ ...draft, value: '' });
  };

  const data = rows.data;
  const pages = data?.total != null ? Math.max(1, Math.ceil(data.total / PAGE)) : null;
  return (
    <section aria-labelledby="data-title">
      <h2 id="data-title">{table.name}</h2>
      <form class="row-form" onSubmit={addFilter} aria-label="Filter rows">
        <Field label="Column" inline>{(p) => <select {...p} value={draft.column} onChange={(e) => setDraft({ ...draft, column: e.currentTarget.value })}>{cols.map((c) => <option key={c}>{c}</option>)}</select>}</Field>
        <Field label="Operator" inline>{(p) => <select {...p} value={draft.op} onChange={(e) => setDraft({ ...draft, op: e.currentTarget.value })}>{OPS.map((o) => <option key={o}>{o}</option>)}</select>}</Field>
        <Field label="Value" inline hint={draft.op === 'in' ? 'e.g. (1,2,3)' : draft.op === 'is' ? 'null, true or false' : null}>{(p) => <input {...p} value={draft.value} onInput={(e) => setDraft({ ...draft, value: e.currentTarget.value })} />}</Field>
        <button type="submit" class="secondary">Add filter</button>
        <Field label="Sort by" inline>{(p) => <select {...p} value={order.column} onChange={(e) => setOrder({ ...order, column: e.currentTarget.value })}><option value="">(none)</option>{cols.map((c) => <option key={c}>{c}</option>)}</select>}</Field>
        <Field label="Direction" inline>{(p) => <select {...p} value={order.dir} onChange={(e) => setOrder({ ...order, dir: e.currentTarget.value })}><option value="asc">ascending</option><option value="desc">descending</option></select>}</Field>
      </form>
      {filters.length > 0 && (
        <ul class="chips" aria-label="Active filters">
          {filters.map((f, i) => (
            <li key={i}><code>{f.column}={f.op}.{f.value}</code> <button type="button" class="small secondary" aria-label={`Remove filter ${f.column} ${f.op} ${f.value}`} onClick={() => { setFilters(filters.filter((_, j) => j !== i)); setOffset(0); }}>×</button></li>
          ))}
        </ul>
      )}
      <div class="actions">
        <button type="button" onClick={() => setEditing('new')}>Insert row</button>
        {pk.length === 0 && <span class="muted">No primary key: rows can be inserted but not edited or deleted here.</span>}
      </div>
      {editing === 'new' && <RowForm title={`New row in ${table.name}`} table={table} onCancel={() => setEditing(null)}
        onSave={async (values) => { await api('POST', base, values, { headers: { Prefer: 'return=minimal' } }); announce('Row inserted'); setEditing(null); rows.reload(); }} />}
      <ErrorBox error={rowError} />
      {rows.error ? <ErrorBox error={rows.error} /> : !data ? <p class="muted" role="status">Loading rows…</p> : (
        <div>
          {data.rows.length === 0 ? <p class="muted">No rows match.</p> : (
            <div class="grid-wrap" tabIndex={0} role="region" aria-label={`Rows of ${table.name}`}>
              <table class="grid">
                <thead><tr>{cols.map((c) => <th scope="col" key={c}>{c}</th>)}<th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
                <tbody>
                  {data.rows.map((r, i) => (
                    <Fragment key={i}>
                      <tr>
                        {cols.map((c) => <td key={c}>{cell(r[c])}</td>)}
                        <td class="row-actions">{pk.length > 0 && (
                          <>
                            <button type="button" class="small secondary" onClick={() => setEditing(i)} aria-label={`Edit row ${pk.map((k) => r[k]).join(', ')}`}>Edit</button>
                            <button type="button" class="small danger" onClick={() => remove(r)} aria-label={`Delete row ${pk.map((k) => r[k]).join(', ')}`}>Delete</button>
                          </>
                        )}</td>
                      </tr>
                      {editing === i && (
                        <tr><td colSpan={cols.length + 1}>
                          <RowForm title={`Edit row ${pk.map((k) => r[k]).join(', ')}`} table={table} row={r} onCancel={() => setEditing(null)}
                            onSave={async (values) => { await api('PATCH', `${base}?${match(r)}`, values, { headers: { Prefer: 'return=minimal' } }); announce('Row saved'); setEditing(null); rows.reload(); }} />
                        </td></tr>
                      )}
                    </Fragment>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <nav class="pager" aria-label="Pages">
            <button type="button" class="small secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>Previous</button>
            <span role="status">Rows {data.rows.length ? offset + 1 : 0}–{offset + data.rows.length}{data.total != null ? ` of about ${data.total}` : ''}{pages ? ` · page ${offset / PAGE + 1} of ${pages}` : ''}</span>
            <button type="button" class="small secondary" disabled={data.rows.length < PAGE} onClick={() => setOffset(offset + PAGE)}>Next</button>
          </nav>
        </div>
      )}
    </section>
  );
}

// RowForm edits one row; the server's validation error shows in place.
function RowForm({ title, table, row, onSave, onCancel }) {
  const [values, setValues] = useState(() => Object.fromEntries(table.columns.map((c) => [c.name, row ? editable(row[c.name]) : ''])));
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true); setError(null);
    const body = {};
    for (const c of table.columns) {
      const v = values[c.name];
      if (row) {
        if (v !== editable(row[c.name])) body[c.name] = v === '' ? null : toJSON(v, c.type);
      } else if (v !== '') {
        body[c.name] = toJSON(v, c.type);
      }
    }
    try {
      if (Object.keys(body).length === 0 && row) throw new ApiError(400, { message: 'Nothing changed' });
      await onSave(body);
    } catch (err) { setError(err); } finally { setBusy(false); }
  };
  return (
    <form class="card row-edit" onSubmit={submit} aria-label={title}>
      <h3 class="small-title">{title}</h3>
      {table.columns.map((c) => (
        <Field key={c.name} label={`${c.name} (${c.type})`} inline>
          {(p) => <input {...p} name={c.name} value={values[c.name]} onInput={(e) => setValues({ ...values, [c.name]: e.currentTarget.value })} spellcheck={false}
            placeholder={row ? 'empty = NULL' : 'empty = default'} />}
        </Field>
      ))}
      <ErrorBox error={error} />
      <div class="actions">
        <button type="submit" disabled={busy}>Save</button>
        <button type="button" class="secondary" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}
