// A table made with the table editor API (admin) is usable at once through
// postgrest-js: the schema cache reloads on admin DDL (DESIGN.md §5.4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { url, ref, adminToken, client } from './env.mjs';

const db = client();

async function admin(method, path, body) {
  const res = await fetch(`${url}/admin/v1/projects/${ref}${path}`, {
    method,
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

test('create, use, alter and drop a table', { skip: !adminToken && 'no admin token' }, async () => {
  const name = `editor_${process.pid}`;
  const created = await admin('POST', '/tables', {
    name,
    columns: [
      { name: 'id', type: 'bigint', primary_key: true, identity: true },
      { name: 'label', type: 'text', nullable: false },
      { name: 'book_id', type: 'bigint', references: { table: 'books', on_delete: 'cascade' } },
    ],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));

  const ins = await db.from(name).insert({ label: 'x', book_id: 1 }).select('id,label,book_id');
  assert.equal(ins.error, null);
  assert.deepEqual(ins.data, [{ id: 1, label: 'x', book_id: 1 }]);

  const altered = await admin('PATCH', `/tables/${name}`, {
    add_columns: [{ name: 'score', type: 'numeric(4,1)', nullable: false, default: '0' }],
  });
  assert.equal(altered.status, 200, JSON.stringify(altered.body));
  const read = await db.from(name).select('label,score');
  assert.equal(read.error, null);
  assert.deepEqual(read.data, [{ label: 'x', score: 0 }]);

  const bad = await db.from(name).insert({ label: 'y', book_id: 999 });
  assert.equal(bad.status, 409);
  assert.equal(bad.error?.code, '23503');

  assert.equal((await admin('DELETE', `/tables/${name}`)).status, 204);
  const gone = await db.from(name).select('*');
  assert.equal(gone.status, 404);
});
