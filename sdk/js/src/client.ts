import { PostgrestClient } from '@supabase/postgrest-js'
import { GoTrueClient } from '@supabase/auth-js'
import type { SupportedStorage } from '@supabase/auth-js'

type Fetch = typeof fetch

/** Options of {@link createClient}. */
export interface PlinthClientOptions {
  /**
   * Schema sent as Accept-Profile/Content-Profile. Plinth maps "public"
   * (the default, as in supabase-js) to the project's own schema.
   */
  schema?: string
  /** Headers added to every request. */
  headers?: Record<string, string>
  /** fetch implementation (default: globalThis.fetch). */
  fetch?: Fetch
  auth?: {
    /**
     * Key of the stored session. Defaults to `plinth-{ref}-auth-token`, so
     * several projects served from one origin (path routing) keep separate
     * sessions; supabase-js would key them all by host.
     */
    storageKey?: string
    /** Where sessions are kept (default: localStorage in browsers, memory elsewhere). */
    storage?: SupportedStorage
    /** Refresh the access token before it expires (default true). */
    autoRefreshToken?: boolean
    /** Keep the session in storage across reloads (default true). */
    persistSession?: boolean
  }
}

/** Joins a server URL and a project ref into the project's base URL. */
export function projectURL(url: string, ref: string): string {
  const base = url.replace(/\/+$/, '')
  return ref ? `${base}/p/${encodeURIComponent(ref)}` : base
}

/**
 * A client of one Plinth project: `from`/`rpc` are @supabase/postgrest-js
 * (typed by the `Database` type that `plinth gen ts` emits), `auth` is
 * @supabase/auth-js against the project's GoTrue-compatible auth API.
 * Requests carry the project key, and the signed-in user's access token
 * when there is one.
 */
export class PlinthClient<Database = any> {
  /** The project's data API client. */
  readonly rest: PostgrestClient<Database>
  /** The project's end-user auth client (signUp, signInWithPassword, onAuthStateChange, …). */
  readonly auth: GoTrueClient
  readonly restUrl: string
  readonly authUrl: string
  /** Starts a query on a table or view (postgrest-js `from`). */
  readonly from: PostgrestClient<Database>['from']
  /** Calls a function of the project schema (postgrest-js `rpc`). */
  readonly rpc: PostgrestClient<Database>['rpc']

  constructor(url: string, ref: string, key: string, options: PlinthClientOptions = {}) {
    if (!key) throw new Error('Plinth: a project key (anon or service_role) is required')
    const base = projectURL(url, ref)
    this.restUrl = `${base}/rest/v1`
    this.authUrl = `${base}/auth/v1`
    const baseFetch: Fetch = options.fetch ?? ((...args) => fetch(...args))
    const headers = { ...options.headers, apikey: key, Authorization: `Bearer ${key}` }

    this.auth = new GoTrueClient({
      url: this.authUrl,
      headers,
      fetch: baseFetch,
      storageKey: options.auth?.storageKey ?? `plinth-${ref || 'default'}-auth-token`,
      storage: options.auth?.storage,
      autoRefreshToken: options.auth?.autoRefreshToken ?? true,
      persistSession: options.auth?.persistSession ?? true,
      detectSessionInUrl: false,
    })

    // Like supabase-js: every data request asks auth for the current
    // session, so a refreshed token is used at once.
    const fetchWithAuth: Fetch = async (input, init) => {
      const { data } = await this.auth.getSession()
      const h = new Headers(init?.headers)
      if (!h.has('apikey')) h.set('apikey', key)
      h.set('Authorization', `Bearer ${data.session?.access_token ?? key}`)
      return baseFetch(input, { ...init, headers: h })
    }

    this.rest = new PostgrestClient<Database>(this.restUrl, {
      headers: options.headers,
      schema: (options.schema ?? 'public') as never,
      fetch: fetchWithAuth,
    })
    this.from = ((...args: unknown[]) => (this.rest.from as (...a: unknown[]) => unknown)(...args)) as PostgrestClient<Database>['from']
    this.rpc = ((...args: unknown[]) => (this.rest.rpc as (...a: unknown[]) => unknown)(...args)) as PostgrestClient<Database>['rpc']
  }
}

/**
 * Creates a client of project `ref` on the Plinth server at `url`
 * (e.g. `createClient<Database>('http://localhost:8080', 'demo', anonKey)`).
 * With host routing (PLINTH_BASE_DOMAIN) pass the project's own URL and ref "".
 */
export function createClient<Database = any>(url: string, ref: string, key: string, options?: PlinthClientOptions): PlinthClient<Database> {
  return new PlinthClient<Database>(url, ref, key, options)
}
