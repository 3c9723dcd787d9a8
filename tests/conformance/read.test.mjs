// Reads through the real @supabase/postgrest-js client (DESIGN.md §5.1),
// over the fixture in fixture.sql.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { client, anonKey } from './env.mjs';

const db = client();

function ok(res) {
  assert.equal(res.error, null, `unexpected error: ${JSON.stringify(res.error)}`);
  return res;
}

describe('select', () => {
  test('columns, filter, order and limit', async () => {
    const res = ok(await db.from('books').select('id,title').eq('genre', 'fiction').order('id', { ascending: false }).limit(2));
    assert.equal(res.status, 200);
    assert.deepEqual(res.data, [
      { id: 3, title: 'Ficciones' },
      { id: 2, title: 'The Left Hand of Darkness' },
    ]);
  });

  test('every row with *, types rendered as PostgREST does', async () => {
    const res = ok(await db.from('books').select('*').eq('id', 1));
    assert.deepEqual(res.data, [{
      id: 1,
      title: 'A Wizard of Earthsea',
      author_id: 1,
      genre: 'fiction',
      pages: 183,
      price: 9.99,
      keywords: ['magic', 'islands'],
      meta: { lang: 'en', series: 'Earthsea' },
      published: '1968-11-01',
      in_print: true,
    }]);
  });

  test('comparison, in, is and like operators', async () => {
    const gt = ok(await db.from('books').select('id').gt('pages', 200).order('id'));
    assert.deepEqual(gt.data.map((r) => r.id), [2, 4]);
    const inList = ok(await db.from('books').select('id').in('id', [1, 3, 5]).order('id'));
    assert.deepEqual(inList.data.map((r) => r.id), [1, 3, 5]);
    const isNull = ok(await db.from('books').select('id').is('author_id', null));
    assert.deepEqual(isNull.data, [{ id: 6 }]);
    const ilike = ok(await db.from('books').select('title').ilike('title', '%LABYRINTH%'));
    assert.deepEqual(ilike.data, [{ title: 'Labyrinths' }]);
    const neq = ok(await db.from('books').select('id').neq('genre', 'fiction').lte('id', 5).order('id'));
    assert.deepEqual(neq.data.map((r) => r.id), [4, 5]);
  });

  test('or, not and nested logic', async () => {
    const or = ok(await db.from('books').select('id').or('genre.eq.essay,and(genre.eq.poetry,in_print.is.true)').order('id'));
    assert.deepEqual(or.data.map((r) => r.id), [4, 5]);
    const not = ok(await db.from('books').select('id').not('genre', 'eq', 'fiction').order('id'));
    assert.deepEqual(not.data.map((r) => r.id), [4, 5, 6]);
  });

  test('arrays and JSON', async () => {
    const contains = ok(await db.from('books').select('id').contains('keywords', ['labyrinths']).order('id'));
    assert.deepEqual(contains.data.map((r) => r.id), [3, 4]);
    const overlaps = ok(await db.from('books').select('id').overlaps('keywords', ['magic', 'winter']).order('id'));
    assert.deepEqual(overlaps.data.map((r) => r.id), [1, 2]);
    const path = ok(await db.from('books').select('id,lang:meta->>lang').eq('meta->>lang', 'es'));
    assert.deepEqual(path.data, [{ id: 3, lang: 'es' }]);
    const arrow = ok(await db.from('authors').select('name,country:bio->country').eq('id', 2));
    assert.deepEqual(arrow.data, [{ name: 'Jorge Luis Borges', country: 'AR' }]);
  });

  test('order with nulls last, offset by range', async () => {
    const res = ok(await db.from('books').select('id,pages').order('pages', { ascending: true, nullsFirst: false }).range(4, 5));
    assert.deepEqual(res.data, [{ id: 2, pages: 304 }, { id: 6, pages: null }]);
  });

  test('a view is a resource', async () => {
    const res = ok(await db.from('book_summaries').select('title,author').eq('id', 3));
    assert.deepEqual(res.data, [{ title: 'Ficciones', author: 'Jorge Luis Borges' }]);
  });
});

describe('count and ranges', () => {
  test('count=exact with the rows', async () => {
    const res = ok(await db.from('books').select('id', { count: 'exact' }).eq('in_print', true).order('id').limit(2));
    assert.equal(res.count, 4);
    assert.equal(res.data.length, 2);
    assert.equal(res.status, 206);
  });

  test('count=exact in a HEAD request', async () => {
    const res = ok(await db.from('authors').select('*', { count: 'exact', head: true }));
    assert.equal(res.count, 3);
    assert.equal(res.data, null);
  });

  test('planned and estimated counts answer with a number', async () => {
    for (const count of ['planned', 'estimated']) {
      const res = ok(await db.from('authors').select('id', { count }));
      assert.equal(typeof res.count, 'number', count);
    }
  });
});

describe('response shapes', () => {
  test('single() returns one object', async () => {
    const res = ok(await db.from('authors').select('name').eq('id', 3).single());
    assert.deepEqual(res.data, { name: 'Mary Oliver' });
  });

  test('single() on zero rows is a 406 PGRST116', async () => {
    const res = await db.from('authors').select('name').eq('id', 999).single();
    assert.equal(res.status, 406);
    assert.equal(res.error?.code, 'PGRST116');
    assert.equal(res.data, null);
  });

  test('single() on several rows is a 406 PGRST116', async () => {
    const res = await db.from('books').select('id').eq('author_id', 1).single();
    assert.equal(res.status, 406);
    assert.equal(res.error?.code, 'PGRST116');
  });

  test('maybeSingle() gives null for no row and the object for one', async () => {
    const none = ok(await db.from('authors').select('name').eq('id', 999).maybeSingle());
    assert.equal(none.data, null);
    const one = ok(await db.from('authors').select('name').eq('id', 1).maybeSingle());
    assert.deepEqual(one.data, { name: 'Ursula K. Le Guin' });
  });

  test('csv() returns a header and the rows, quoted as Postgres quotes record fields', async () => {
    const res = ok(await db.from('authors').select('id,name').order('id').limit(2).csv());
    assert.equal(res.data, 'id,name\n1,"Ursula K. Le Guin"\n2,"Jorge Luis Borges"');
  });
});

describe('embedded resources', () => {
  test('many-to-one', async () => {
    const res = ok(await db.from('books').select('title,authors(name)').eq('id', 3));
    assert.deepEqual(res.data, [{ title: 'Ficciones', authors: { name: 'Jorge Luis Borges' } }]);
  });

  test('one-to-many with order and limit on the embed', async () => {
    const res = ok(await db.from('authors').select('name,books(title)').eq('id', 1)
      .order('title', { referencedTable: 'books', ascending: false }).limit(1, { referencedTable: 'books' }));
    assert.deepEqual(res.data, [{ name: 'Ursula K. Le Guin', books: [{ title: 'The Left Hand of Darkness' }] }]);
  });

  test('many-to-many through a join table', async () => {
    const res = ok(await db.from('books').select('title,tags(name)').eq('id', 1));
    assert.deepEqual(res.data, [{ title: 'A Wizard of Earthsea', tags: [{ name: 'classic' }, { name: 'fantasy' }] }]);
  });

  test('!inner drops parents without a match', async () => {
    const res = ok(await db.from('books').select('id,authors!inner(name)').eq('authors.name', 'Mary Oliver'));
    assert.deepEqual(res.data, [{ id: 5, authors: { name: 'Mary Oliver' } }]);
  });
});

describe('functions', () => {
  test('rpc with a scalar result', async () => {
    const res = ok(await db.rpc('add_numbers', { a: 2, b: 40 }));
    assert.equal(res.data, 42);
  });

  test('rpc with GET', async () => {
    const res = ok(await db.rpc('add_numbers', { a: 1, b: 2 }, { get: true }));
    assert.equal(res.data, 3);
  });

  test('rpc without arguments', async () => {
    const res = ok(await db.rpc('author_count'));
    assert.equal(res.data, 3);
  });

  test('rpc returning a set, with filters and order', async () => {
    const res = ok(await db.rpc('books_by_genre', { g: 'poetry' }).select('id,title').order('id', { ascending: false }));
    assert.deepEqual(res.data, [{ id: 6, title: 'Anonymous Verses' }, { id: 5, title: 'Dream Work' }]);
  });

  test('rpc returning void', async () => {
    const res = ok(await db.rpc('noop'));
    assert.ok(res.status === 200 || res.status === 204, `status ${res.status}`);
    assert.equal(res.data, null);
  });
});

describe('errors', () => {
  test('unknown table: 404 PGRST205', async () => {
    const res = await db.from('no_such_table').select('*');
    assert.equal(res.status, 404);
    assert.equal(res.error?.code, 'PGRST205');
  });

  test('unknown column: 400 42703', async () => {
    const res = await db.from('books').select('nope');
    assert.equal(res.status, 400);
    assert.equal(res.error?.code, '42703');
  });

  test('malformed filter: 400 PGRST100 with the position', async () => {
    const res = await db.from('books').select('id').filter('id', 'nope', '1');
    assert.equal(res.status, 400);
    assert.equal(res.error?.code, 'PGRST100');
    assert.match(res.error.message, /position/);
  });

  test('a value of the wrong type: 400 22P02', async () => {
    const res = await db.from('books').select('id').eq('id', 'abc');
    assert.equal(res.status, 400);
    assert.equal(res.error?.code, '22P02');
  });

  test('an unknown enum label: 400 22P02', async () => {
    const res = await db.from('books').select('id').eq('genre', 'cookbook');
    assert.equal(res.status, 400);
    assert.equal(res.error?.code, '22P02');
  });

  test('unknown function: 404 PGRST202', async () => {
    const res = await db.rpc('no_such_function', { x: 1 });
    assert.equal(res.status, 404);
    assert.equal(res.error?.code, 'PGRST202');
  });

  test('an exception raised in a function: 400 P0001 with its message', async () => {
    const res = await db.rpc('fail_with', { msg: 'boom' });
    assert.equal(res.status, 400);
    assert.equal(res.error?.code, 'P0001');
    assert.equal(res.error?.message, 'boom');
  });

  test('a range past the end: 416 PGRST103', async () => {
    const res = await db.from('authors').select('id', { count: 'exact' }).range(10, 20);
    assert.equal(res.status, 416);
    assert.equal(res.error?.code, 'PGRST103');
  });

  test('every error has code, message, details and hint', async () => {
    const res = await db.from('books').select('nope');
    assert.deepEqual(Object.keys(res.error).sort(), ['code', 'details', 'hint', 'message']);
  });

  test('anon is denied by the default rules', async () => {
    const res = await client(anonKey).from('books').select('id');
    assert.equal(res.status, 401);
    assert.ok(res.error?.code, 'error has a code');
  });

  test('a profile naming another schema: 406 PGRST106', async () => {
    const res = await db.schema('p_someone_else').from('books').select('id');
    assert.equal(res.status, 406);
    assert.equal(res.error?.code, 'PGRST106');
  });
});
