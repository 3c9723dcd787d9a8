// Prints, as JSON, the request @supabase/postgrest-js sends for each case
// below. postgrest_test.go builds the same calls with the Go SDK and
// compares them with postgrest-js-requests.json (this script's output), and
// reruns this script when node and sdk/js/node_modules are present.
//
// Usage: POSTGREST_JS=/path/to/postgrest-js/dist/index.mjs node postgrest-js-requests.mjs
import { pathToFileURL } from 'node:url'

const { PostgrestClient } = await import(pathToFileURL(process.env.POSTGREST_JS).href)

let last
const fakeFetch = async (url, init) => {
  const h = {}
  for (const k of ['prefer', 'accept', 'content-type', 'accept-profile', 'content-profile']) {
    if (init.headers[k] !== undefined) h[k] = init.headers[k]
  }
  last = { method: init.method, url: String(url), headers: h, body: init.body ?? null }
  return new Response('[]', { status: 200, headers: { 'content-type': 'application/json' } })
}

const base = 'http://localhost/p/demo/rest/v1'
const c = new PostgrestClient(base, { fetch: fakeFetch, retry: false })
const pub = new PostgrestClient(base, { fetch: fakeFetch, retry: false, schema: 'public' })

const cases = {
  select_basic: () => c.from('todos').select('id,title').eq('done', false).order('id', { ascending: false }).limit(10),
  select_default: () => c.from('todos').select(),
  select_whitespace: () => c.from('todos').select('id, title,\n author:authors ( name, "full name" )'),
  select_embed_filters: () =>
    c.from('authors').select('name,books!inner(title)').eq('books.title', 'Dune').limit(2, { referencedTable: 'books' }),
  filters_compare: () => c.from('t').select().neq('a', 1).gt('b', 2.5).gte('c', -3).lt('d', 1e21).lte('e', 0.0000001),
  filters_pattern: () =>
    c.from('t').select().like('f', '%x%').ilike('g', 'A*').likeAllOf('h', ['a%', '%b']).likeAnyOf('i', ['c*'])
      .ilikeAllOf('j', ['d%']).ilikeAnyOf('k', ['e%', 'f%']).regexMatch('l', '^a.+$').regexIMatch('m', 'B'),
  filters_is: () => c.from('t').select().is('a', null).is('b', true).isDistinct('c', 'x').not('d', 'is', null),
  filters_in: () => c.from('t').select().in('k', [1, 2, 2, 'a,b', '(c)', 'plain']).notIn('l', ['x', 'y']),
  filters_containment: () =>
    c.from('t').select().contains('m', ['a', 'b']).containedBy('n', { x: 1 }).contains('o', '[1,5)').overlaps('p', ['a', 'b'])
      .overlaps('q', '[1,2)'),
  filters_range: () =>
    c.from('t').select().rangeGt('q', '[1,2)').rangeGte('r', '[1,2)').rangeLt('s', '[1,2)').rangeLte('t', '[1,2)').rangeAdjacent('u', '[1,2)'),
  filters_logic: () =>
    c.from('t').select().match({ v: 1, w: 'two' }).not('x', 'eq', 3).or('y.eq.1,and(z.is.null,a.gt.2)').filter('aa', 'in', '(1,2)'),
  filters_or_referenced: () => c.from('authors').select('*,books(*)').or('title.eq.A,title.eq.B', { referencedTable: 'books' }),
  text_search: () =>
    c.from('docs').select().textSearch('body', "'cat' & 'dog'", { config: 'english', type: 'websearch' })
      .textSearch('title', 'x').textSearch('a', 'y', { type: 'plain' }).textSearch('b', 'z', { type: 'phrase' }),
  unicode_and_reserved: () => c.from('t').select().eq('name', 'Zoë & co?/#+ ~*=%').eq('weird col', 'a b'),
  order_multi: () =>
    c.from('t').select().order('a').order('b', { ascending: false, nullsFirst: true }).order('c', { nullsFirst: false })
      .order('d', { referencedTable: 'books' }),
  range_offsets: () => c.from('t').select().range(10, 19).range(0, 4, { referencedTable: 'books' }),
  count_exact: () => c.from('t').select('*', { count: 'exact' }),
  count_head: () => c.from('t').select('*', { count: 'planned', head: true }).eq('a', 1),
  single: () => c.from('t').select().eq('id', 1).single(),
  maybe_single: () => c.from('t').select().eq('id', 1).maybeSingle(),
  csv: () => c.from('t').select().csv(),
  insert_one: () => c.from('todos').insert({ done: false, title: 'x' }),
  insert_many_select: () => c.from('todos').insert([{ a: 1 }, { a: 3, b: 2 }]).select(),
  insert_count_missing: () => c.from('todos').insert([{ a: 1 }], { count: 'exact', defaultToNull: false }).select('id'),
  upsert_on_conflict: () => c.from('todos').upsert({ id: 1, t: 'x' }, { onConflict: 'id' }).select(),
  upsert_ignore: () => c.from('todos').upsert([{ id: 1 }, { id: 2 }], { ignoreDuplicates: true }),
  update: () => c.from('todos').update({ done: true }).eq('id', 1).select(),
  update_count: () => c.from('todos').update({ done: true }, { count: 'exact' }).in('id', [1, 2]),
  delete: () => c.from('todos').delete().in('id', [1, 2]).select(),
  delete_count: () => c.from('todos').delete({ count: 'estimated' }).eq('a', 'b'),
  rollback: () => c.from('todos').insert({ a: 1 }).rollback(),
  rpc_post: () => c.rpc('add', { a: 1, b: 2 }),
  rpc_no_args: () => c.rpc('ping'),
  rpc_get: () => c.rpc('add', { a: 1, b: [1, 2], c: 'x y', d: null }, { get: true }),
  rpc_head_count: () => c.rpc('f', { a: 1 }, { head: true, count: 'exact' }),
  rpc_head_object: () => c.rpc('f', { a: { x: 1 } }, { head: true, count: 'exact' }),
  rpc_filtered: () => c.rpc('books_by', { author: 1 }).select('id').eq('id', 2).limit(1),
  schema_read: () => pub.from('t').select(),
  schema_write: () => pub.from('t').insert({ a: 1 }),
}

const out = {}
for (const [name, build] of Object.entries(cases)) {
  last = undefined
  await build()
  out[name] = last
}
process.stdout.write(JSON.stringify(out, null, 2) + '\n')
