// The table editor: structured create/alter/drop through the admin API's
// /tables endpoints. Every change is first sent with ?dry_run=true, so the
// SQL it will run is shown before anything runs.
import { useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { ErrorBox, Field, Grid, Link, Page, Result, announce, useAsync } from '../ui.jsx';
import { navigate } from '../router.js';

const TYPES = ['bigint', 'integer', 'smallint', 'text', 'varchar(255)', 'boolean', 'numeric', 'real', 'double precision',
  'uuid', 'date', 'time', 'timestamptz', 'timestamp', 'jsonb', 'json', 'bytea', 'text[]', 'integer[]'];
const ON_DELETE = ['', 'cascade', 'set null', 'set default', 'restrict', 'no action'];

const tablesOf = (data) => (Array.isArray(data) ? data : data?.tables || []);

export function Tables({ ref_: ref, query }) {
  const tables = useAsync(() => api('GET', `/projects/${enc(ref)}/tables`), [ref]);
  const selected = query.get('table');
  return (
    <Page title="Table editor">
      <Result state={tables} what="The table editor">
        {(data) => {
          const list = tablesOf(data);
          const current = list.find((t) => t.name === selected);
          return (
            <div class="split">
              <nav aria-label="Tables" class="table-list">
                <ul>
                  <li><Link href={`/p/${ref}/tables`} aria-current={!selected ? 'page' : undefined}>+ New table</Link></li>
                  {list.map((t) => (
                    <li key={t.name}><Link href={`/p/${ref}/tables?table=${enc(t.name)}`} aria-current={t.name === selected ? 'page' : undefined}>{t.name}</Link></li>
                  ))}
                </ul>
              </nav>
              <div class="split-main">
                {current
                  ? <EditTable key={current.name} ref_={ref} table={current} tables={list} onChange={tables.reload} />
                  : <NewTable ref_={ref} tables={list} onCreated={(name) => { tables.reload(); navigate(`/p/${ref}/tables?table=${enc(name)}`); }} />}
              </div>
            </div>
          );
        }}
      </Result>
    </Page>
  );
}

const blankColumn = () => ({ name: '', type: 'text', primary_key: false, nullable: true, unique: false, default: '', ref_table: '', ref_column: '', on_delete: '' });

// columnSpec turns a form row into the API's column object.
function columnSpec(c) {
  const spec = { name: c.name.trim(), type: c.type.trim() };
  if (c.primary_key) spec.primary_key = true;
  if (!c.nullable && !c.primary_key) spec.nullable = false;
  if (c.unique) spec.unique = true;
  if (c.default.trim() !== '') spec.default = c.default.trim();
  if (c.ref_table) {
    spec.references = { table: c.ref_table };
    if (c.ref_column.trim()) spec.references.column = c.ref_column.trim();
    if (c.on_delete) spec.references.on_delete = c.on_delete;
  }
  return spec;
}

function ColumnRow({ c, i, tables, onChange, onRemove }) {
  const set = (k) => (e) => onChange({ ...c, [k]: e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value });
  const n = i + 1;
  return (
    <fieldset class="column-row">
      <legend>Column {n}</legend>
      <Field label="Name">{(p) => <input {...p} value={c.name} onInput={set('name')} required spellcheck={false} name={`col-${n}-name`} />}</Field>
      <Field label="Type">{(p) => <input {...p} value={c.type} onInput={set('type')} list="pg-types" required spellcheck={false} name={`col-${n}-type`} />}</Field>
      <Field label="Default" hint="SQL expression, e.g. now()">{(p) => <input {...p} value={c.default} onInput={set('default')} spellcheck={false} name={`col-${n}-default`} />}</Field>
      <label class="check"><input type="checkbox" checked={c.primary_key} onChange={set('primary_key')} name={`col-${n}-pk`} /> Primary key</label>
      <label class="check"><input type="checkbox" checked={c.nullable && !c.primary_key} disabled={c.primary_key} onChange={set('nullable')} name={`col-${n}-nullable`} /> Nullable</label>
      <label class="check"><input type="checkbox" checked={c.unique} onChange={set('unique')} name={`col-${n}-unique`} /> Unique</label>
      <Field label="References table">
        {(p) => (
          <select {...p} value={c.ref_table} onChange={set('ref_table')} name={`col-${n}-ref-table`}>
            <option value="">(none)</option>
            {tables.map((t) => <option key={t.name} value={t.name}>{t.name}</option>)}
          </select>
        )}
      </Field>
      {c.ref_table && <Field label="References column" hint="Empty: its primary key">{(p) => <input {...p} value={c.ref_column} onInput={set('ref_column')} spellcheck={false} name={`col-${n}-ref-column`} />}</Field>}
      {c.ref_table && (
        <Field label="On delete">
          {(p) => <select {...p} value={c.on_delete} onChange={set('on_delete')} name={`col-${n}-on-delete`}>{ON_DELETE.map((o) => <option key={o} value={o}>{o || '(default: no action)'}</option>)}</select>}
        </Field>
      )}
      {onRemove && <button type="button" class="small secondary" onClick={onRemove} aria-label={`Remove column ${n}`}>Remove</button>}
    </fieldset>
  );
}

function NewTable({ ref_: ref, tables, onCreated }) {
  const [name, setName] = useState('');
  const [cols, setCols] = useState([{ ...blankColumn(), name: 'id', type: 'bigint', primary_key: true, nullable: false, default: '' }]);
  const setCol = (i, c) => setCols(cols.map((x, j) => (j === i ? c : x)));
  const request = () => ({ method: 'POST', path: `/projects/${enc(ref)}/tables`, body: { name: name.trim(), columns: cols.map(columnSpec) } });
  return (
    <section aria-labelledby="new-table-title">
      <h2 id="new-table-title">New table</h2>
      <datalist id="pg-types">{TYPES.map((t) => <option key={t} value={t} />)}</datalist>
      <Field label="Table name">{(p) => <input {...p} value={name} onInput={(e) => setName(e.currentTarget.value)} required spellcheck={false} name="table-name" />}</Field>
      {cols.map((c, i) => <ColumnRow key={i} c={c} i={i} tables={tables} onChange={(x) => setCol(i, x)} onRemove={cols.length > 1 ? () => setCols(cols.filter((_, j) => j !== i)) : null} />)}
      <button type="button" class="secondary" onClick={() => setCols([...cols, blankColumn()])}>Add column</button>
      <ReviewAndRun request={request} deps={[name, cols]} runLabel="Create table" onDone={() => { announce(`Table ${name} created`); onCreated(name.trim()); }} />
    </section>
  );
}

// ReviewAndRun sends the change as a dry run, shows the SQL, and only then
// offers to run it. Editing the form (deps) invalidates the review.
export function ReviewAndRun({ request, deps, runLabel, onDone, danger }) {
  const [review, setReview] = useState(null); // {sql, key}
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const key = JSON.stringify(deps);
  const reviewed = review && review.key === key;
  const send = async (dry) => {
    const r = request();
    const sep = r.path.includes('?') ? '&' : '?';
    return api(r.method, r.path + (dry ? `${sep}dry_run=true` : ''), r.body);
  };
  const doReview = async () => {
    setBusy(true); setError(null);
    try {
      const res = await send(true);
      setReview({ sql: sqlOf(res), key });
    } catch (e) { setError(e); setReview(null); } finally { setBusy(false); }
  };
  const doRun = async () => {
    setBusy(true); setError(null);
    try {
      await send(false);
      setReview(null);
      onDone();
    } catch (e) { setError(e); } finally { setBusy(false); }
  };
  return (
    <div class="review">
      <div class="actions">
        <button type="button" class={reviewed ? 'secondary' : ''} onClick={doReview} disabled={busy}>Review SQL</button>
        {reviewed && <button type="button" class={danger ? 'danger' : ''} onClick={doRun} disabled={busy}>{runLabel}</button>}
      </div>
      <ErrorBox error={error} />
      {reviewed && (
        <div>
          <h3 class="small-title" id={`sql-${runLabel.replace(/\W+/g, '-')}`}>SQL that will run</h3>
          <pre class="sql-preview" tabIndex={0} aria-labelledby={`sql-${runLabel.replace(/\W+/g, '-')}`}><code>{review.sql}</code></pre>
        </div>
      )}
    </div>
  );
}

function sqlOf(res) {
  const s = res?.sql ?? res?.statements ?? res;
  if (Array.isArray(s)) return s.join(';\n') + ';';
  return typeof s === 'string' ? s : JSON.stringify(s, null, 2);
}

function EditTable({ ref_: ref, table, tables, onChange }) {
  const path = `/projects/${enc(ref)}/tables/${enc(table.name)}`;
  const [col, setCol] = useState(blankColumn());
  const [drop, setDrop] = useState('');
  const [idxCols, setIdxCols] = useState('');
  const [idxUnique, setIdxUnique] = useState(false);
  const [confirmName, setConfirmName] = useState('');
  const [alt, setAlt] = useState(noChange);
  const columns = table.columns || [];
  const others = tables.filter((t) => t.name !== table.name);
  return (
    <section aria-labelledby="edit-table-title">
      <h2 id="edit-table-title">Table {table.name}</h2>
      <p><Link href={`/p/${ref}/data?table=${enc(table.name)}`}>Browse rows of {table.name}</Link></p>
      <Grid caption={`Columns of ${table.name}`} rows={columns.map(describeColumn)} columns={['name', 'type', 'nullable', 'default', 'key']} rowKey={(c) => c.name} />
      {table.indexes?.length > 0 && <Grid caption={`Indexes of ${table.name}`} rows={table.indexes.map((i) => ({ name: i.name, columns: (i.columns || []).join(', '), unique: i.unique ? 'yes' : '' }))} />}

      <details>
        <summary>Add a column</summary>
        <datalist id="pg-types">{TYPES.map((t) => <option key={t} value={t} />)}</datalist>
        <ColumnRow c={col} i={columns.length} tables={[table, ...others]} onChange={setCol} />
        <ReviewAndRun request={() => ({ method: 'PATCH', path, body: { add_columns: [columnSpec(col)] } })} deps={[col]} runLabel="Add column"
          onDone={() => { announce('Column added'); setCol(blankColumn()); onChange(); }} />
      </details>

      <details>
        <summary>Change a column</summary>
        <Field label="Column to change">
          {(p) => <select {...p} name="alter-column" value={alt.name} onChange={(e) => setAlt({ ...noChange, name: e.currentTarget.value })}><option value="">(choose)</option>{columns.map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}</select>}
        </Field>
        {alt.name && (
          <div class="column-row">
            <Field label="Rename to">{(p) => <input {...p} name="alter-rename" value={alt.rename_to} onInput={(e) => setAlt({ ...alt, rename_to: e.currentTarget.value })} spellcheck={false} />}</Field>
            <Field label="New type" hint="Converted with USING column::type">{(p) => <input {...p} name="alter-type" list="pg-types" value={alt.type} onInput={(e) => setAlt({ ...alt, type: e.currentTarget.value })} spellcheck={false} />}</Field>
            <Field label="Nullable">{(p) => <select {...p} name="alter-nullable" value={alt.nullable} onChange={(e) => setAlt({ ...alt, nullable: e.currentTarget.value })}><option value="">unchanged</option><option value="true">yes</option><option value="false">no (NOT NULL)</option></select>}</Field>
            <Field label="New default" hint="SQL expression">{(p) => <input {...p} name="alter-default" value={alt.default} disabled={alt.drop_default} onInput={(e) => setAlt({ ...alt, default: e.currentTarget.value })} spellcheck={false} />}</Field>
            <label class="check"><input type="checkbox" checked={alt.drop_default} onChange={(e) => setAlt({ ...alt, drop_default: e.currentTarget.checked })} /> Drop the default</label>
          </div>
        )}
        <ReviewAndRun request={() => ({ method: 'PATCH', path, body: { alter_columns: [columnChange(alt)] } })} deps={[alt]} runLabel="Change column"
          onDone={() => { announce('Column changed'); setAlt(noChange); onChange(); }} />
      </details>

      <details>
        <summary>Drop a column</summary>
        <Field label="Column to drop">
          {(p) => <select {...p} value={drop} onChange={(e) => setDrop(e.currentTarget.value)}><option value="">(choose)</option>{columns.map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}</select>}
        </Field>
        <ReviewAndRun request={() => ({ method: 'PATCH', path, body: { drop_columns: drop ? [drop] : [] } })} deps={[drop]} runLabel="Drop column" danger
          onDone={() => { announce('Column dropped'); setDrop(''); onChange(); }} />
      </details>

      <details>
        <summary>Add an index</summary>
        <Field label="Columns" hint="Comma-separated, e.g. author_id, created_at">{(p) => <input {...p} value={idxCols} onInput={(e) => setIdxCols(e.currentTarget.value)} spellcheck={false} />}</Field>
        <label class="check"><input type="checkbox" checked={idxUnique} onChange={(e) => setIdxUnique(e.currentTarget.checked)} /> Unique</label>
        <ReviewAndRun request={() => ({ method: 'PATCH', path, body: { add_indexes: [{ columns: idxCols.split(',').map((s) => s.trim()).filter(Boolean), unique: idxUnique }] } })}
          deps={[idxCols, idxUnique]} runLabel="Add index" onDone={() => { announce('Index added'); setIdxCols(''); onChange(); }} />
      </details>

      <details>
        <summary>Drop this table</summary>
        <Field label={`Type ${table.name} to confirm`}>{(p) => <input {...p} value={confirmName} onInput={(e) => setConfirmName(e.currentTarget.value)} autocomplete="off" spellcheck={false} />}</Field>
        {confirmName === table.name && (
          <ReviewAndRun request={() => ({ method: 'DELETE', path })} deps={[confirmName]} runLabel="Drop table" danger
            onDone={() => { announce(`Table ${table.name} dropped`); navigate(`/p/${ref}/tables`); onChange(); }} />
        )}
      </details>
    </section>
  );
}

const noChange = { name: '', rename_to: '', type: '', nullable: '', default: '', drop_default: false };

// columnChange turns the "change a column" form into the API's object,
// leaving out what stays as it is.
function columnChange(a) {
  const ch = { name: a.name };
  if (a.rename_to.trim()) ch.rename_to = a.rename_to.trim();
  if (a.type.trim()) ch.type = a.type.trim();
  if (a.nullable) ch.nullable = a.nullable === 'true';
  if (a.drop_default) ch.drop_default = true;
  else if (a.default.trim()) ch.default = a.default.trim();
  return ch;
}

function describeColumn(c) {
  const key = [c.primary_key || c.pk ? 'primary key' : '', c.unique ? 'unique' : '',
    c.references ? `→ ${c.references.table}${c.references.column ? '.' + c.references.column : ''}` : ''].filter(Boolean).join(', ');
  return { name: c.name, type: c.type, nullable: c.nullable === false ? 'no' : 'yes', default: c.default ?? '', key };
}
