type Fetch = typeof fetch

/** An admin API error: the HTTP status and PostgREST-shaped body. */
export class PlinthAdminError extends Error {
  readonly status: number
  readonly code: string
  readonly details: unknown
  readonly hint: unknown

  constructor(status: number, body: { code?: string; message?: string; details?: unknown; hint?: unknown }) {
    super(body.message ?? `HTTP ${status}`)
    this.name = 'PlinthAdminError'
    this.status = status
    this.code = body.code ?? ''
    this.details = body.details ?? null
    this.hint = body.hint ?? null
  }
}

export interface Project {
  ref: string
  name: string
  schema: string
  created_at: string
  /** Only in createProject's answer. */
  api_keys?: { anon: string; service_role: string }
}

export interface ApiKey {
  id: string
  role: 'anon' | 'service_role'
  prefix: string
  key?: string
  created_at: string
  revoked_at: string | null
}

export interface ProjectSettings {
  cors_origins?: string[]
  max_rows?: number | null
  auth?: {
    auto_confirm?: boolean
    jwt_expiry_seconds?: number
    refresh_reuse_seconds?: number
    allow_signup?: boolean
  }
  rate_limit_fail?: '' | 'open' | 'closed'
  [key: string]: unknown
}

/** A client of the platform admin API (/admin/v1). */
export class PlinthAdmin {
  readonly url: string
  private token: string
  private readonly fetch: Fetch

  constructor(url: string, token: string, options: { fetch?: Fetch } = {}) {
    this.url = `${url.replace(/\/+$/, '')}/admin/v1`
    this.token = token
    this.fetch = options.fetch ?? ((...args) => fetch(...args))
  }

  /** Signs an admin in with email and password. */
  static async signIn(url: string, email: string, password: string, options: { fetch?: Fetch } = {}): Promise<PlinthAdmin> {
    const admin = new PlinthAdmin(url, '', options)
    const out = await admin.request<{ access_token: string }>('POST', '/auth/token', { email, password })
    admin.token = out.access_token
    return admin
  }

  private async raw(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {}
    if (this.token) headers.Authorization = `Bearer ${this.token}`
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    const res = await this.fetch(this.url + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    if (!res.ok) {
      const text = await res.text()
      let parsed: { code?: string; message?: string } = { message: text || res.statusText }
      try {
        parsed = JSON.parse(text)
      } catch {
        // not JSON: keep the text as the message
      }
      throw new PlinthAdminError(res.status, parsed)
    }
    return res
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.raw(method, path, body)
    const text = await res.text()
    return (text ? JSON.parse(text) : undefined) as T
  }

  private p(ref: string): string {
    return `/projects/${encodeURIComponent(ref)}`
  }

  projects(): Promise<Project[]> {
    return this.request('GET', '/projects?limit=1000')
  }
  createProject(ref: string, name?: string): Promise<Project> {
    return this.request('POST', '/projects', { ref, name: name ?? ref })
  }
  project(ref: string): Promise<Project> {
    return this.request('GET', this.p(ref))
  }
  deleteProject(ref: string): Promise<void> {
    return this.request('DELETE', this.p(ref))
  }
  /** Runs SQL in the project as its owner; rows of the last statement. */
  sql<Row = Record<string, unknown>>(ref: string, query: string): Promise<{ rows: Row[]; command: string }> {
    return this.request('POST', `${this.p(ref)}/sql`, { query })
  }
  keys(ref: string): Promise<ApiKey[]> {
    return this.request('GET', `${this.p(ref)}/keys`)
  }
  mintKey(ref: string, role: 'anon' | 'service_role'): Promise<ApiKey> {
    return this.request('POST', `${this.p(ref)}/keys`, { role })
  }
  revokeKey(ref: string, id: string): Promise<void> {
    return this.request('DELETE', `${this.p(ref)}/keys/${encodeURIComponent(id)}`)
  }
  settings(ref: string): Promise<ProjectSettings> {
    return this.request('GET', `${this.p(ref)}/settings`)
  }
  updateSettings(ref: string, patch: ProjectSettings): Promise<ProjectSettings> {
    return this.request('PATCH', `${this.p(ref)}/settings`, patch)
  }
  /** The project's generated TypeScript Database type (what `plinth gen ts` writes). */
  async typesTypeScript(ref: string): Promise<string> {
    return (await this.raw('GET', `${this.p(ref)}/types/typescript`)).text()
  }
  /** Generated Go code (what `plinth gen go` writes). */
  async typesGo(ref: string, pkg?: string): Promise<string> {
    const q = pkg ? `?package=${encodeURIComponent(pkg)}` : ''
    return (await this.raw('GET', `${this.p(ref)}/types/go${q}`)).text()
  }
}

/** Creates an admin API client with a token (PLINTH_ADMIN_TOKEN or from PlinthAdmin.signIn). */
export function createAdminClient(url: string, token: string, options?: { fetch?: Fetch }): PlinthAdmin {
  return new PlinthAdmin(url, token, options)
}
