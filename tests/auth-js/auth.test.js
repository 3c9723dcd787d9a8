// Drives a live Plinth project's auth API with the real @supabase/supabase-js,
// then reads and writes rows as the signed-in user. authjs_test.go starts the
// server, prepares the project and passes it in the environment.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createClient } from '@supabase/supabase-js'

const url = need('PLINTH_PROJECT_URL') // http://host:port/p/{ref}
const ref = need('PLINTH_REF')
const anonKey = need('PLINTH_ANON_KEY')
const serviceKey = need('PLINTH_SERVICE_KEY')
const adminURL = need('PLINTH_ADMIN_URL')
const adminToken = need('PLINTH_ADMIN_TOKEN')

function need(name) {
  const v = process.env[name]
  if (!v) throw new Error(`${name} is not set (run this through authjs_test.go)`)
  return v
}

// Realtime is not used; on Node 20 supabase-js needs a WebSocket class at
// construction, and this one never connects.
class WebSocketStub {
  constructor() {
    this.readyState = 3
  }
  close() {}
  send() {}
}

// Path routing puts every project on one origin, so each client keys its
// stored session by project, as the README advises.
const storageKey = `sb-${ref}-auth-token`

function memoryStorage() {
  const m = new Map()
  return {
    map: m,
    getItem: (k) => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
  }
}

// calls records the auth API paths a client requested.
function client(key = anonKey) {
  const storage = memoryStorage()
  const calls = []
  const supabase = createClient(url, key, {
    auth: { storageKey, storage, autoRefreshToken: false, persistSession: true, detectSessionInUrl: false },
    realtime: { transport: WebSocketStub },
    global: {
      fetch: (input, init) => {
        calls.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname.replace(`/p/${ref}`, '')}`)
        return fetch(input, init)
      },
    },
  })
  return { supabase, storage, calls }
}

async function patchAuthSettings(auth) {
  const res = await fetch(`${adminURL}/admin/v1/projects/${ref}/settings`, {
    method: 'PATCH',
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ auth }),
  })
  assert.equal(res.status, 200, await res.text())
}

const password = 'correct horse battery'

test('sign-up, sign-in, user, refresh, reuse detection, sign-out and rows', async (t) => {
  const { supabase, storage, calls } = client()
  const email = `ada+${Date.now()}@example.com`

  let userId
  await t.test('signUp returns a session (auto_confirm)', async () => {
    const { data, error } = await supabase.auth.signUp({ email, password, options: { data: { name: 'Ada' } } })
    assert.equal(error, null)
    assert.ok(data.session?.access_token)
    assert.equal(data.user.email, email)
    assert.equal(data.user.user_metadata.name, 'Ada')
    assert.ok(data.user.email_confirmed_at)
    userId = data.user.id
    assert.ok(storage.map.has(storageKey), 'session stored under the per-project storageKey')
  })

  await t.test('signUp again with the same email is user_already_exists', async () => {
    const { error } = await client().supabase.auth.signUp({ email, password })
    assert.equal(error?.status, 422)
    assert.equal(error?.code, 'user_already_exists')
  })

  await t.test('signInWithPassword', async () => {
    const bad = await client().supabase.auth.signInWithPassword({ email, password: 'wrong password' })
    assert.equal(bad.error?.status, 400)
    assert.equal(bad.error?.code, 'invalid_credentials')
    assert.equal(bad.error?.message, 'Invalid login credentials')
    const unknown = await client().supabase.auth.signInWithPassword({ email: `nobody-${email}`, password })
    assert.equal(unknown.error?.code, 'invalid_credentials')
    assert.equal(unknown.error?.message, bad.error?.message)

    const { data, error } = await supabase.auth.signInWithPassword({ email, password })
    assert.equal(error, null)
    assert.equal(data.user.id, userId)
    assert.equal(data.session.token_type, 'bearer')
    assert.ok(data.session.expires_at > Date.now() / 1000)
  })

  await t.test('weak passwords are AuthWeakPasswordError', async () => {
    const { error } = await client().supabase.auth.signUp({ email: `weak-${email}`, password: '123' })
    assert.equal(error?.code, 'weak_password')
    assert.equal(error?.name, 'AuthWeakPasswordError')
    assert.deepEqual(error?.reasons, ['length'])
  })

  await t.test('getUser and getClaims (verified locally with the JWKS)', async () => {
    const { data, error } = await supabase.auth.getUser()
    assert.equal(error, null)
    assert.equal(data.user.id, userId)
    assert.equal(data.user.app_metadata.provider, 'email')

    calls.length = 0
    const claims = await supabase.auth.getClaims()
    assert.equal(claims.error, null)
    assert.equal(claims.data.claims.sub, userId)
    assert.equal(claims.data.claims.role, 'authenticated')
    assert.equal(claims.data.header.alg, 'ES256')
    assert.deepEqual(calls, ['GET /auth/v1/.well-known/jwks.json'], 'getClaims verified with the JWKS, not /user')
  })

  await t.test('updateUser', async () => {
    const { data, error } = await supabase.auth.updateUser({ data: { name: 'Ada L.', lang: 'en' } })
    assert.equal(error, null)
    assert.equal(data.user.user_metadata.name, 'Ada L.')
    assert.equal(data.user.user_metadata.lang, 'en')
    const same = await supabase.auth.updateUser({ password })
    assert.equal(same.error?.code, 'same_password')
  })

  let rotatedAway
  await t.test('refreshSession rotates the refresh token', async () => {
    const before = (await supabase.auth.getSession()).data.session
    const { data, error } = await supabase.auth.refreshSession()
    assert.equal(error, null)
    assert.notEqual(data.session.refresh_token, before.refresh_token)
    assert.notEqual(data.session.access_token, before.access_token)
    assert.equal(data.session.user.user_metadata.name, 'Ada L.', 'the new token carries the updated metadata')
    rotatedAway = before.refresh_token
    // The stored session is the new one.
    assert.equal((await supabase.auth.getSession()).data.session.refresh_token, data.session.refresh_token)
  })

  await t.test('reuse of a rotated token: allowed within the window, then revokes the session', async () => {
    const other = client().supabase
    const within = await other.auth.refreshSession({ refresh_token: rotatedAway })
    assert.equal(within.error, null, 'reuse within refresh_reuse_seconds (two tabs) gets a session')

    await patchAuthSettings({ refresh_reuse_seconds: 0 })
    try {
      const late = await client().supabase.auth.refreshSession({ refresh_token: rotatedAway })
      assert.equal(late.error?.status, 400)
      assert.equal(late.error?.code, 'refresh_token_already_used')
      // The whole session is gone: the current token fails too.
      const current = await supabase.auth.refreshSession()
      assert.equal(current.error?.code, 'refresh_token_not_found')
    } finally {
      await patchAuthSettings({ refresh_reuse_seconds: 10 })
    }
  })

  await t.test('signOut ends the session and its refresh token', async () => {
    const { data } = await supabase.auth.signInWithPassword({ email, password })
    const refreshToken = data.session.refresh_token
    const second = client().supabase
    await second.auth.signInWithPassword({ email, password })

    const { error } = await supabase.auth.signOut({ scope: 'local' })
    assert.equal(error, null)
    assert.equal((await supabase.auth.getSession()).data.session, null)
    assert.equal(storage.map.has(storageKey), false)
    const again = await client().supabase.auth.refreshSession({ refresh_token: refreshToken })
    assert.equal(again.error?.code, 'refresh_token_not_found')
    // scope local left the other session alone.
    assert.equal((await second.auth.getUser()).error, null)
    assert.equal((await second.auth.signOut()).error, null) // global
  })

  await t.test('rows as the signed-in user', async () => {
    const ada = client().supabase
    await ada.auth.signInWithPassword({ email, password })
    const bob = client().supabase
    const bobSignUp = await bob.auth.signUp({ email: `bob-${email}`, password })
    assert.equal(bobSignUp.error, null)

    const ins = await ada.from('notes').insert({ body: 'ada 1' }).select().single()
    assert.equal(ins.error, null, JSON.stringify(ins.error))
    assert.equal(ins.data.owner, userId, 'owner defaults to auth.uid()')
    await ada.from('notes').insert([{ body: 'ada 2' }, { body: 'ada 3' }])
    await bob.from('notes').insert({ body: 'bob 1' })

    // Someone else's row cannot be written: RLS's with check refuses it.
    const forged = await ada.from('notes').insert({ body: 'as bob', owner: bobSignUp.data.user.id })
    assert.equal(forged.error?.code, '42501')

    const mine = await ada.from('notes').select('body').order('id')
    assert.equal(mine.error, null)
    assert.deepEqual(mine.data.map((r) => r.body), ['ada 1', 'ada 2', 'ada 3'])
    const bobs = await bob.from('notes').select('body')
    assert.deepEqual(bobs.data.map((r) => r.body), ['bob 1'])

    const upd = await ada.from('notes').update({ body: 'ada one' }).eq('body', 'ada 1').select()
    assert.equal(upd.error, null)
    assert.equal(upd.data.length, 1)
    // Bob's update of Ada's row touches nothing.
    const bobUpd = await bob.from('notes').update({ body: 'hacked' }).eq('body', 'ada one').select()
    assert.deepEqual(bobUpd.data, [])
    const del = await ada.from('notes').delete().eq('body', 'ada 3').select()
    assert.equal(del.data.length, 1)
    const after = await ada.from('notes').select('body').order('id')
    assert.deepEqual(after.data.map((r) => r.body), ['ada one', 'ada 2'])

    // Signed out, the same client is anonymous again and sees nothing.
    await ada.auth.signOut()
    const anon = await ada.from('notes').select('body')
    assert.ok(anon.error || anon.data.length === 0)
  })
})

test('auth.admin with the service key', async () => {
  const { supabase } = client(serviceKey)
  const email = `admin-made-${Date.now()}@example.com`
  const created = await supabase.auth.admin.createUser({ email, password, email_confirm: true, user_metadata: { via: 'admin' } })
  assert.equal(created.error, null)
  assert.equal(created.data.user.email, email)

  const list = await supabase.auth.admin.listUsers({ page: 1, perPage: 100 })
  assert.equal(list.error, null)
  assert.ok(list.data.users.some((u) => u.id === created.data.user.id))

  const signIn = await client().supabase.auth.signInWithPassword({ email, password })
  assert.equal(signIn.error, null)

  const moved = `admin-moved-${Date.now()}@example.com`
  const updated = await supabase.auth.admin.updateUserById(created.data.user.id, {
    email: moved, password: 'a new password 2', email_confirm: true, user_metadata: { via: null, plan: 'pro' },
  })
  assert.equal(updated.error, null)
  assert.equal(updated.data.user.email, moved)
  assert.deepEqual(updated.data.user.user_metadata, { plan: 'pro' })
  const old = await client().supabase.auth.signInWithPassword({ email, password })
  assert.equal(old.error?.code, 'invalid_credentials')
  const again = await client().supabase.auth.signInWithPassword({ email: moved, password: 'a new password 2' })
  assert.equal(again.error, null)

  const del = await supabase.auth.admin.deleteUser(created.data.user.id)
  assert.equal(del.error, null)
  const gone = await client().supabase.auth.signInWithPassword({ email: moved, password: 'a new password 2' })
  assert.equal(gone.error?.code, 'invalid_credentials')

  const denied = await client().supabase.auth.admin.listUsers()
  assert.equal(denied.error?.status, 403)
})

test('signInAnonymously, rows as that user, then linking an email', async () => {
  const { supabase } = client()
  const off = await supabase.auth.signInAnonymously()
  assert.equal(off.error?.code, 'anonymous_provider_disabled')
  assert.equal(off.error?.status, 422)

  await patchAuthSettings({ anonymous_sign_ins: true })
  try {
    const { data, error } = await supabase.auth.signInAnonymously({ options: { data: { cart: 2 } } })
    assert.equal(error, null)
    assert.equal(data.user.is_anonymous, true)
    assert.equal(data.user.user_metadata.cart, 2)
    assert.equal(data.user.role, 'authenticated')
    const claims = JSON.parse(Buffer.from(data.session.access_token.split('.')[1], 'base64url'))
    assert.equal(claims.is_anonymous, true)

    // An anonymous user owns rows like any other (RLS by auth.uid()).
    const ins = await supabase.from('notes').insert({ body: 'guest note' }).select('body, owner')
    assert.equal(ins.error, null)
    assert.deepEqual(ins.data, [{ body: 'guest note', owner: data.user.id }])

    // Linking an email makes the user permanent, same id, same rows.
    const email = `guest-${Date.now()}@example.com`
    const linked = await supabase.auth.updateUser({ email })
    assert.equal(linked.error, null)
    assert.equal(linked.data.user.is_anonymous, false)
    assert.equal(linked.data.user.id, data.user.id)
    const pw = await supabase.auth.updateUser({ password })
    assert.equal(pw.error, null)
    const again = await client().supabase.auth.signInWithPassword({ email, password })
    assert.equal(again.error, null)
    assert.equal(again.data.user.id, data.user.id)
  } finally {
    await patchAuthSettings({ anonymous_sign_ins: false })
  }
})
