package plinth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Admin is a client of the platform admin API (/admin/v1), authenticated
// with an admin token (PLINTH_ADMIN_TOKEN or one from AdminSignIn).
type Admin struct {
	base  string
	token string
	t     *transport
}

// NewAdmin returns an admin client of the server at baseURL.
func NewAdmin(baseURL, token string, opts ...Option) *Admin {
	o := buildOptions(opts)
	return &Admin{base: strings.TrimRight(baseURL, "/") + "/admin/v1", token: token, t: newTransport(o.hc, o.retry)}
}

// AdminSignIn trades an admin's email and password for a token.
func AdminSignIn(ctx context.Context, baseURL, email, password string, opts ...Option) (*Admin, error) {
	a := NewAdmin(baseURL, "", opts...)
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := a.call(ctx, http.MethodPost, "/auth/token", map[string]string{"email": email, "password": password}, &out); err != nil {
		return nil, err
	}
	a.token = out.AccessToken
	return a, nil
}

// Token is the admin token in use.
func (a *Admin) Token() string { return a.token }

func (a *Admin) call(ctx context.Context, method, path string, body, dest any) error {
	raw, err := a.raw(ctx, method, path, body)
	if err != nil {
		return err
	}
	if dest != nil && len(raw.Body) > 0 {
		if err := json.Unmarshal(raw.Body, dest); err != nil {
			return fmt.Errorf("plinth: decode %s %s: %w", method, path, err)
		}
	}
	return nil
}

func (a *Admin) raw(ctx context.Context, method, path string, body any) (*rawResponse, error) {
	h := http.Header{}
	if a.token != "" {
		h.Set("Authorization", "Bearer "+a.token)
	}
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("plinth: encode body: %w", err)
		}
		h.Set("Content-Type", "application/json")
	}
	return a.t.do(ctx, method, a.base+path, h, b)
}

// Project is a project as the admin API shows it.
type Project struct {
	Ref       string    `json:"ref"`
	Name      string    `json:"name"`
	Schema    string    `json:"schema"`
	CreatedAt time.Time `json:"created_at"`
	// APIKeys is set only in CreateProject's answer: "anon" and "service_role".
	APIKeys map[string]string `json:"api_keys,omitempty"`
}

// Projects lists the projects the caller may see.
func (a *Admin) Projects(ctx context.Context) ([]Project, error) {
	var out []Project
	return out, a.call(ctx, http.MethodGet, "/projects?limit=1000", nil, &out)
}

// CreateProject provisions a project; the answer carries its keys (the
// service_role key is shown only here).
func (a *Admin) CreateProject(ctx context.Context, ref, name string) (*Project, error) {
	var out Project
	return &out, a.call(ctx, http.MethodPost, "/projects", map[string]string{"ref": ref, "name": name}, &out)
}

// Project shows one project.
func (a *Admin) Project(ctx context.Context, ref string) (*Project, error) {
	var out Project
	return &out, a.call(ctx, http.MethodGet, "/projects/"+url.PathEscape(ref), nil, &out)
}

// DeleteProject drops a project with its schema, roles, keys and users.
func (a *Admin) DeleteProject(ctx context.Context, ref string) error {
	return a.call(ctx, http.MethodDelete, "/projects/"+url.PathEscape(ref), nil, nil)
}

// SQLResult is the answer of SQL: the rows of the last statement.
type SQLResult struct {
	Rows    []map[string]any `json:"rows"`
	Command string           `json:"command"`
}

// SQL runs SQL inside the project as its owner; DDL reloads the schema
// cache on every instance.
func (a *Admin) SQL(ctx context.Context, ref, query string) (*SQLResult, error) {
	var out SQLResult
	return &out, a.call(ctx, http.MethodPost, "/projects/"+url.PathEscape(ref)+"/sql", map[string]string{"query": query}, &out)
}

// Key is an API key of a project; Key is set when it can be shown.
type Key struct {
	ID        string     `json:"id"`
	Role      string     `json:"role"`
	Prefix    string     `json:"prefix"`
	Key       string     `json:"key,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// Keys lists a project's API keys.
func (a *Admin) Keys(ctx context.Context, ref string) ([]Key, error) {
	var out []Key
	return out, a.call(ctx, http.MethodGet, "/projects/"+url.PathEscape(ref)+"/keys", nil, &out)
}

// MintKey creates a key of role "anon" or "service_role".
func (a *Admin) MintKey(ctx context.Context, ref, role string) (*Key, error) {
	var out Key
	return &out, a.call(ctx, http.MethodPost, "/projects/"+url.PathEscape(ref)+"/keys", map[string]string{"role": role}, &out)
}

// RevokeKey revokes a key.
func (a *Admin) RevokeKey(ctx context.Context, ref, id string) error {
	return a.call(ctx, http.MethodDelete, "/projects/"+url.PathEscape(ref)+"/keys/"+url.PathEscape(id), nil, nil)
}

// Settings returns a project's settings (cors_origins, max_rows, auth,
// rate_limit_fail) as a JSON object.
func (a *Admin) Settings(ctx context.Context, ref string) (map[string]any, error) {
	var out map[string]any
	return out, a.call(ctx, http.MethodGet, "/projects/"+url.PathEscape(ref)+"/settings", nil, &out)
}

// UpdateSettings merges patch into a project's settings and returns them.
func (a *Admin) UpdateSettings(ctx context.Context, ref string, patch map[string]any) (map[string]any, error) {
	var out map[string]any
	return out, a.call(ctx, http.MethodPatch, "/projects/"+url.PathEscape(ref)+"/settings", patch, &out)
}

// TypesTypeScript returns the generated TypeScript Database type.
func (a *Admin) TypesTypeScript(ctx context.Context, ref string) (string, error) {
	raw, err := a.raw(ctx, http.MethodGet, "/projects/"+url.PathEscape(ref)+"/types/typescript", nil)
	if err != nil {
		return "", err
	}
	return string(raw.Body), nil
}

// TypesGo returns generated Go code for package pkg ("" for the default).
func (a *Admin) TypesGo(ctx context.Context, ref, pkg string) (string, error) {
	path := "/projects/" + url.PathEscape(ref) + "/types/go"
	if pkg != "" {
		path += "?package=" + url.QueryEscape(pkg)
	}
	raw, err := a.raw(ctx, http.MethodGet, path, nil)
	if err != nil {
		return "", err
	}
	return string(raw.Body), nil
}
