// The project's OpenAPI document (DESIGN.md §5.4) must be usable by real
// tools: openapi-typescript validates it (with Redocly's parser) and turns it
// into types, and the TypeScript compiler accepts code written against them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { url, ref, restURL, anonKey, serviceKey, adminToken } from './env.mjs';

// The document follows the caller's access rules, as PostgREST's
// openapi-mode follow-privileges: service_role sees everything.
async function fetchDoc(key = serviceKey) {
  const res = await fetch(`${restURL}/`, { headers: { apikey: key } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/openapi\+json/);
  return res.json();
}

test('GET /rest/v1/ is an OpenAPI 3.1 document of the schema', async () => {
  const doc = await fetchDoc();
  assert.equal(doc.openapi, '3.1.0');
  for (const p of ['/books', '/authors', '/tags', '/book_tags', '/book_summaries', '/rpc/add_numbers', '/rpc/books_by_genre']) {
    assert.ok(doc.paths[p], `missing path ${p}`);
  }
  assert.equal(doc.paths['/book_summaries'].post, undefined, 'a join view is read-only');
  assert.deepEqual(doc.components.schemas.books.properties.genre.enum, ['fiction', 'poetry', 'essay']);
  assert.match(doc.components.schemas.books.properties.author_id.description, /Foreign Key to `authors.id`/);
});

test('anon sees only what its rules allow: nothing in this project', async () => {
  const doc = await fetchDoc(anonKey);
  assert.deepEqual(Object.keys(doc.paths), ['/']);
  assert.equal(doc.components.schemas.books, undefined);
});

test('the admin endpoint serves the same document', { skip: !adminToken && 'no admin token' }, async () => {
  const res = await fetch(`${url}/admin/v1/projects/${ref}/openapi.json`, { headers: { Authorization: `Bearer ${adminToken}` } });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), await fetchDoc());
});

test('openapi-typescript generates types that compile', async () => {
  const doc = await fetchDoc();
  const out = astToString(await openapiTS(doc));
  assert.match(out, /books: \{/);
  assert.match(out, /"\/rpc\/add_numbers": \{/);
  assert.match(out, /"fiction" \| "poetry" \| "essay"/);

  // Code a developer would write against the generated types.
  const usage = `
import type { components, paths } from './api';
type Book = components['schemas']['books'];
const book: Book = {
  id: 1, title: 'A Wizard of Earthsea', author_id: null, genre: 'poetry', pages: null,
  price: 9.99, keywords: ['magic'], meta: { any: ['json'] }, published: null, in_print: true,
};
// @ts-expect-error genre is an enum
const wrong: Book['genre'] = 'cookbook';
// @ts-expect-error title is a string
const title: Book['title'] = 42;
type AddArgs = NonNullable<paths['/rpc/add_numbers']['post']['requestBody']>['content']['application/json'];
const args: AddArgs = { a: 1, b: 2 };
type Rows = paths['/books']['get']['responses'][200]['content']['application/json'];
const rows: Rows = [book];
export { book, wrong, title, args, rows };
`;
  const dir = mkdtempSync(join(tmpdir(), 'plinth-openapi-'));
  try {
    writeFileSync(join(dir, 'api.ts'), out);
    writeFileSync(join(dir, 'usage.ts'), usage);
    const program = ts.createProgram([join(dir, 'usage.ts')], {
      strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler, skipLibCheck: true, types: [], lib: ['lib.es2022.d.ts'],
    });
    const diags = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    assert.deepEqual(diags, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
