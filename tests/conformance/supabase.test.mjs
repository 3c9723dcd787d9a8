// supabase-js pointed at a Plinth project works unchanged (DESIGN.md §3):
// createClient(`${url}/p/${ref}`, key) appends /rest/v1 itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { url, ref, serviceKey } from './env.mjs';

// Node 20 has no global WebSocket; supabase-js' realtime client needs one
// to be constructed even when no channel is opened.
const supabase = createClient(`${url}/p/${ref}`, serviceKey, {
  auth: { persistSession: false, autoRefreshToken: false, storageKey: `plinth-${ref}` },
  realtime: { transport: WebSocket },
});

test('from().select() through supabase-js', async () => {
  const { data, error, status } = await supabase.from('authors').select('id,name').order('id').limit(2);
  assert.equal(error, null);
  assert.equal(status, 200);
  assert.deepEqual(data, [
    { id: 1, name: 'Ursula K. Le Guin' },
    { id: 2, name: 'Jorge Luis Borges' },
  ]);
});

test('rpc() through supabase-js', async () => {
  const { data, error } = await supabase.rpc('add_numbers', { a: 20, b: 22 });
  assert.equal(error, null);
  assert.equal(data, 42);
});

test('errors through supabase-js keep PostgREST codes', async () => {
  const { error, status } = await supabase.from('no_such_table').select('*');
  assert.equal(status, 404);
  assert.equal(error?.code, 'PGRST205');
});
