// Writes through the real @supabase/postgrest-js client (DESIGN.md §5.2).
// Every test works on its own rows of the table "scratch".
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { client, unique } from './env.mjs';

const db = client();

function ok(res) {
  assert.equal(res.error, null, `unexpected error: ${JSON.stringify(res.error)}`);
  return res;
}

describe('insert', () => {
  test('one object, returning it with select()', async () => {
    const name = unique('one');
    const res = ok(await db.from('scratch').insert({ name, qty: 2, tags: ['a', 'b'], data: { k: [1, 2] } }).select('name,qty,note,tags,data'));
    assert.equal(res.status, 201);
    assert.deepEqual(res.data, [{ name, qty: 2, note: null, tags: ['a', 'b'], data: { k: [1, 2] } }]);
  });

  test('an array in bulk, with missing columns taking their defaults', async () => {
    const a = unique('bulk');
    const b = unique('bulk');
    const res = ok(await db.from('scratch').insert([{ name: a, qty: 1 }, { name: b }], { defaultToNull: false }).select('name,qty'));
    assert.deepEqual(res.data, [{ name: a, qty: 1 }, { name: b, qty: 0 }]);
  });

  test('an array in bulk fills missing columns with null by default (as PostgREST)', async () => {
    const res = await db.from('scratch').insert([{ name: unique('bulknull'), qty: 1 }, { name: unique('bulknull') }]);
    assert.equal(res.status, 400);
    assert.equal(res.error?.code, '23502');
  });

  test('without select(): 201 and no body', async () => {
    const res = ok(await db.from('scratch').insert({ name: unique('minimal') }));
    assert.equal(res.status, 201);
    assert.equal(res.data, null);
  });

  test('single() after insert returns the object', async () => {
    const name = unique('single');
    const res = ok(await db.from('scratch').insert({ name }).select('name,qty').single());
    assert.deepEqual(res.data, { name, qty: 0 });
  });

  test('a duplicate key: 409 23505', async () => {
    const name = unique('dup');
    ok(await db.from('scratch').insert({ name }));
    const res = await db.from('scratch').insert({ name });
    assert.equal(res.status, 409);
    assert.equal(res.error?.code, '23505');
  });

  test('a not-null violation: 400 23502', async () => {
    const res = await db.from('scratch').insert({ qty: 1 });
    assert.equal(res.status, 400);
    assert.equal(res.error?.code, '23502');
  });

  test('an unknown column: 400 PGRST204', async () => {
    const res = await db.from('scratch').insert({ name: unique('x'), nope: 1 });
    assert.equal(res.status, 400);
    assert.equal(res.error?.code, 'PGRST204');
  });

  test('a failed bulk insert leaves nothing behind', async () => {
    const name = unique('atomic');
    const res = await db.from('scratch').insert([{ name }, { name }]);
    assert.equal(res.status, 409);
    const left = ok(await db.from('scratch').select('id').eq('name', name));
    assert.deepEqual(left.data, []);
  });
});

describe('upsert', () => {
  test('merge-duplicates updates the existing row', async () => {
    const name = unique('merge');
    ok(await db.from('scratch').insert({ name, qty: 1 }));
    const res = ok(await db.from('scratch').upsert({ name, qty: 5 }, { onConflict: 'name' }).select('name,qty'));
    assert.deepEqual(res.data, [{ name, qty: 5 }]);
    const rows = ok(await db.from('scratch').select('qty').eq('name', name));
    assert.deepEqual(rows.data, [{ qty: 5 }]);
  });

  test('ignore-duplicates keeps the existing row', async () => {
    const name = unique('ignore');
    ok(await db.from('scratch').insert({ name, qty: 1 }));
    ok(await db.from('scratch').upsert({ name, qty: 9 }, { onConflict: 'name', ignoreDuplicates: true }));
    const rows = ok(await db.from('scratch').select('qty').eq('name', name));
    assert.deepEqual(rows.data, [{ qty: 1 }]);
  });
});

describe('update and delete', () => {
  test('update with filters, returning the changed rows', async () => {
    const name = unique('upd');
    ok(await db.from('scratch').insert({ name, qty: 1 }));
    const res = ok(await db.from('scratch').update({ qty: 7, note: 'changed' }).eq('name', name).select('name,qty,note'));
    assert.equal(res.status, 200);
    assert.deepEqual(res.data, [{ name, qty: 7, note: 'changed' }]);
  });

  test('update without select(): 204', async () => {
    const name = unique('upd204');
    ok(await db.from('scratch').insert({ name }));
    const res = ok(await db.from('scratch').update({ qty: 3 }).eq('name', name));
    assert.equal(res.status, 204);
  });

  test('update with count=exact reports the affected rows', async () => {
    const name = unique('updcount');
    ok(await db.from('scratch').insert({ name }));
    const res = ok(await db.from('scratch').update({ qty: 4 }, { count: 'exact' }).eq('name', name));
    assert.equal(res.count, 1);
  });

  test('delete with filters, returning the deleted rows', async () => {
    const name = unique('del');
    ok(await db.from('scratch').insert({ name, qty: 2 }));
    const res = ok(await db.from('scratch').delete().eq('name', name).select('name,qty'));
    assert.deepEqual(res.data, [{ name, qty: 2 }]);
    const rows = ok(await db.from('scratch').select('id').eq('name', name));
    assert.deepEqual(rows.data, []);
  });

  test('rollback() runs the change and keeps nothing', async () => {
    const name = unique('rollback');
    const res = ok(await db.from('scratch').insert({ name }).select('name').rollback());
    assert.deepEqual(res.data, [{ name }]);
    const rows = ok(await db.from('scratch').select('id').eq('name', name));
    assert.deepEqual(rows.data, []);
  });
});
