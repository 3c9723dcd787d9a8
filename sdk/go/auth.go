package plinth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// User is an end user of the project, as the auth API returns it.
type User struct {
	ID               string         `json:"id"`
	Aud              string         `json:"aud"`
	Role             string         `json:"role"`
	Email            string         `json:"email"`
	EmailConfirmedAt *time.Time     `json:"email_confirmed_at,omitempty"`
	LastSignInAt     *time.Time     `json:"last_sign_in_at,omitempty"`
	AppMetadata      map[string]any `json:"app_metadata"`
	UserMetadata     map[string]any `json:"user_metadata"`
	IsAnonymous      bool           `json:"is_anonymous"`
	CreatedAt        time.Time      `json:"created_at"`
	UpdatedAt        time.Time      `json:"updated_at"`
}

// Session is a signed-in user's tokens.
type Session struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	ExpiresAt    int64  `json:"expires_at"`
	RefreshToken string `json:"refresh_token"`
	User         *User  `json:"user"`
}

// AuthEvent names a change of the client's session.
type AuthEvent string

// Auth events, as supabase-js names them.
const (
	SignedIn       AuthEvent = "SIGNED_IN"
	SignedOut      AuthEvent = "SIGNED_OUT"
	TokenRefreshed AuthEvent = "TOKEN_REFRESHED"
	UserUpdated    AuthEvent = "USER_UPDATED"
)

// SignUpParams are the fields of a sign-up.
type SignUpParams struct {
	Email    string         `json:"email"`
	Password string         `json:"password"`
	Data     map[string]any `json:"data,omitempty"` // user_metadata
}

// UserAttributes are the changeable fields of a user (empty ones are kept).
type UserAttributes struct {
	Email    string         `json:"email,omitempty"`
	Password string         `json:"password,omitempty"`
	Data     map[string]any `json:"data,omitempty"`
}

// Auth is the project's end-user auth API (GoTrue-compatible). A
// successful sign-in stores the session in the Client: later data requests
// carry the user's access token.
type Auth struct{ c *Client }

// Auth returns the client's auth API.
func (c *Client) Auth() *Auth { return &Auth{c: c} }

// Session returns the current session (nil when signed out).
func (a *Auth) Session() *Session {
	a.c.mu.Lock()
	defer a.c.mu.Unlock()
	if a.c.session == nil {
		return nil
	}
	s := *a.c.session
	return &s
}

// SetSession installs a session kept from earlier (e.g. loaded from disk).
func (a *Auth) SetSession(s *Session) { a.setSession(SignedIn, s) }

// OnAuthStateChange calls fn after every session change; the returned
// function unsubscribes. fn runs synchronously on the caller's goroutine.
func (a *Auth) OnAuthStateChange(fn func(AuthEvent, *Session)) (unsubscribe func()) {
	a.c.mu.Lock()
	id := a.c.nextSub
	a.c.nextSub++
	a.c.subs[id] = fn
	a.c.mu.Unlock()
	return func() {
		a.c.mu.Lock()
		delete(a.c.subs, id)
		a.c.mu.Unlock()
	}
}

func (a *Auth) setSession(ev AuthEvent, s *Session) {
	if s != nil && s.ExpiresAt == 0 && s.ExpiresIn > 0 {
		s.ExpiresAt = time.Now().Unix() + int64(s.ExpiresIn)
	}
	a.c.mu.Lock()
	a.c.session = s
	subs := make([]func(AuthEvent, *Session), 0, len(a.c.subs))
	for _, f := range a.c.subs {
		subs = append(subs, f)
	}
	a.c.mu.Unlock()
	for _, f := range subs {
		f(ev, s)
	}
}

// request sends an auth API call; bearer overrides the Authorization token.
func (a *Auth) request(ctx context.Context, method, path string, body any, bearer string, dest any) error {
	h := a.c.baseHeader()
	if bearer != "" {
		h.Set("Authorization", "Bearer "+bearer)
	}
	h.Set("X-Supabase-Api-Version", "2024-01-01")
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return fmt.Errorf("plinth: encode body: %w", err)
		}
		h.Set("Content-Type", "application/json;charset=UTF-8")
	}
	raw, err := a.c.t.do(ctx, method, a.c.authURL+path, h, b)
	if err != nil {
		return err
	}
	if dest != nil && len(strings.TrimSpace(string(raw.Body))) > 0 {
		if err := json.Unmarshal(raw.Body, dest); err != nil {
			return fmt.Errorf("plinth: decode auth response: %w", err)
		}
	}
	return nil
}

// SignUp creates a user. When the project confirms sign-ups automatically
// (the default) the answer holds a session, which becomes the client's;
// otherwise Session is nil and the user must confirm first.
func (a *Auth) SignUp(ctx context.Context, p SignUpParams) (*Session, *User, error) {
	var raw json.RawMessage
	if err := a.request(ctx, http.MethodPost, "/signup", p, "", &raw); err != nil {
		return nil, nil, err
	}
	var s Session
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, nil, fmt.Errorf("plinth: decode sign-up: %w", err)
	}
	if s.AccessToken != "" {
		a.setSession(SignedIn, &s)
		return &s, s.User, nil
	}
	var u User
	if err := json.Unmarshal(raw, &u); err != nil {
		return nil, nil, fmt.Errorf("plinth: decode sign-up: %w", err)
	}
	return nil, &u, nil
}

// SignInWithPassword signs in; the session becomes the client's.
func (a *Auth) SignInWithPassword(ctx context.Context, email, password string) (*Session, error) {
	var s Session
	body := map[string]string{"email": email, "password": password}
	if err := a.request(ctx, http.MethodPost, "/token?grant_type=password", body, "", &s); err != nil {
		return nil, err
	}
	a.setSession(SignedIn, &s)
	return &s, nil
}

// RefreshSession trades the current refresh token for a new session.
func (a *Auth) RefreshSession(ctx context.Context) (*Session, error) {
	cur := a.Session()
	if cur == nil || cur.RefreshToken == "" {
		return nil, ErrNoSession
	}
	return a.Refresh(ctx, cur.RefreshToken)
}

// Refresh trades refreshToken for a new session, which becomes the client's.
func (a *Auth) Refresh(ctx context.Context, refreshToken string) (*Session, error) {
	var s Session
	body := map[string]string{"refresh_token": refreshToken}
	if err := a.request(ctx, http.MethodPost, "/token?grant_type=refresh_token", body, "", &s); err != nil {
		return nil, err
	}
	a.setSession(TokenRefreshed, &s)
	return &s, nil
}

// GetUser returns the signed-in user, as the server sees the access token.
func (a *Auth) GetUser(ctx context.Context) (*User, error) {
	cur := a.Session()
	if cur == nil {
		return nil, ErrNoSession
	}
	var u User
	if err := a.request(ctx, http.MethodGet, "/user", nil, cur.AccessToken, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// UpdateUser changes the signed-in user's email, password or metadata.
func (a *Auth) UpdateUser(ctx context.Context, attrs UserAttributes) (*User, error) {
	cur := a.Session()
	if cur == nil {
		return nil, ErrNoSession
	}
	var u User
	if err := a.request(ctx, http.MethodPut, "/user", attrs, cur.AccessToken, &u); err != nil {
		return nil, err
	}
	cur.User = &u
	a.setSession(UserUpdated, cur)
	return &u, nil
}

// SignOut revokes the session on the server (every session of the user,
// like supabase-js's default "global" scope) and forgets it locally. The
// local session is dropped even when the server call fails.
func (a *Auth) SignOut(ctx context.Context) error {
	cur := a.Session()
	if cur == nil {
		return nil
	}
	err := a.request(ctx, http.MethodPost, "/logout?scope=global", nil, cur.AccessToken, nil)
	a.setSession(SignedOut, nil)
	if StatusOf(err) == http.StatusUnauthorized || StatusOf(err) == http.StatusNotFound {
		return nil // already gone
	}
	return err
}
