package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/password"
	"github.com/plinth-dev/plinth/platform/store"
	"github.com/plinth-dev/plinth/tenants/pool"
)

// Defaults of a project's auth settings (store.AuthSettings), as GoTrue's.
const (
	DefaultJWTExpiry    = 3600 * time.Second
	DefaultRefreshReuse = 10 * time.Second
)

// Settings are a project's auth settings with defaults applied.
type Settings struct {
	AutoConfirm      bool
	AllowSignup      bool
	AnonymousSignIns bool
	JWTExpiry        time.Duration
	RefreshReuse     time.Duration
}

// SettingsOf reads a project's auth settings.
func SettingsOf(p *store.Project) Settings {
	a := p.Settings.Auth
	s := Settings{AutoConfirm: true, AllowSignup: true, JWTExpiry: DefaultJWTExpiry, RefreshReuse: DefaultRefreshReuse}
	if a.AutoConfirm != nil {
		s.AutoConfirm = *a.AutoConfirm
	}
	if a.AllowSignup != nil {
		s.AllowSignup = *a.AllowSignup
	}
	if a.AnonymousSignIns != nil {
		s.AnonymousSignIns = *a.AnonymousSignIns
	}
	if a.JWTExpirySeconds != nil && *a.JWTExpirySeconds > 0 {
		s.JWTExpiry = time.Duration(*a.JWTExpirySeconds) * time.Second
	}
	if a.RefreshReuseSeconds != nil && *a.RefreshReuseSeconds >= 0 {
		s.RefreshReuse = time.Duration(*a.RefreshReuseSeconds) * time.Second
	}
	return s
}

// Config is what the service needs from the server.
type Config struct {
	// Control is the control-plane pool: the auth schemas belong to the
	// control role and hold no tenant code.
	Control *pgxpool.Pool
	// Pools are the projects' own pools: deleting a user cascades into the
	// project's tables, so it runs there as the project's owner (§9).
	Pools            *pool.Manager
	Keys             *Keys
	PublicURL        string
	StatementTimeout time.Duration
	Password         password.Params
}

// Service is end-user auth for every project of the instance.
type Service struct{ c Config }

// NewService makes a Service.
func NewService(c Config) *Service { return &Service{c: c} }

// Keys returns the signing-key store (the server invalidates it on NOTIFY).
func (s *Service) Keys() *Keys { return s.c.Keys }

// Session is a signed-in session as GoTrue returns it.
type Session struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	ExpiresAt    int64  `json:"expires_at"`
	RefreshToken string `json:"refresh_token"`
	User         *User  `json:"user"`
}

// maxMetadataBytes bounds user_metadata and app_metadata: both travel in
// every access token, and a token must fit in a request header.
const maxMetadataBytes = 8 << 10

func checkMetadata(name string, m map[string]any) error {
	if m == nil {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return apierror.Newf(http.StatusBadRequest, CodeValidationFailed, "%s is not valid JSON", name)
	}
	if len(b) > maxMetadataBytes {
		return apierror.Newf(http.StatusUnprocessableEntity, CodeValidationFailed, "%s is too large (at most %d bytes of JSON)", name, maxMetadataBytes)
	}
	return nil
}

// SignUpInput is POST /signup's body.
type SignUpInput struct {
	Email     string
	Phone     string
	Password  string
	Data      map[string]any
	UserAgent string
}

// SignUp creates a user. With auto_confirm it signs them in and returns a
// session; otherwise it returns the unconfirmed user (and no session).
func (s *Service) SignUp(ctx context.Context, p *store.Project, in SignUpInput) (*Session, *User, error) {
	st := SettingsOf(p)
	if !st.AllowSignup {
		return nil, nil, apierror.New(http.StatusUnprocessableEntity, CodeSignupDisabled, "Signups not allowed for this instance")
	}
	if in.Email == "" && in.Phone != "" {
		return nil, nil, apierror.New(http.StatusBadRequest, CodePhoneProviderDisabled, "Phone signups are disabled")
	}
	if in.Email == "" {
		// No email and no phone is signInAnonymously, as in GoTrue.
		if !st.AnonymousSignIns {
			return nil, nil, apierror.New(http.StatusUnprocessableEntity, CodeAnonymousProviderDisabled, "Anonymous sign-ins are disabled")
		}
		return s.signUpAnonymous(ctx, p, in)
	}
	email, err := normalizeEmail(in.Email)
	if err != nil {
		return nil, nil, err
	}
	if in.Password == "" {
		return nil, nil, apierror.New(http.StatusUnprocessableEntity, CodeValidationFailed, "Signup requires a valid password")
	}
	pw, err := checkNewPassword(in.Password)
	if err != nil {
		return nil, nil, err
	}
	if err := checkMetadata("data", in.Data); err != nil {
		return nil, nil, err
	}
	hash, err := password.Hash(pw, s.c.Password)
	if err != nil {
		return nil, nil, fmt.Errorf("hash password: %w", err)
	}
	t := tablesOf(p)
	var sess *Session
	var user *User
	err = pgx.BeginFunc(ctx, s.c.Control, func(tx pgx.Tx) error {
		u, err := insertUser(ctx, tx, t, newUser{Email: email, PasswordHash: hash, Confirmed: st.AutoConfirm, SignedIn: st.AutoConfirm, UserMetadata: in.Data})
		if err != nil {
			return err
		}
		if u == nil {
			return apierror.New(http.StatusUnprocessableEntity, CodeUserAlreadyExists, "User already registered")
		}
		user = u
		if !st.AutoConfirm {
			return nil
		}
		sess, err = s.startSession(ctx, tx, p, u, in.UserAgent)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return sess, user, nil
}

// signUpAnonymous creates an anonymous user (no email, no password, no
// identity; is_anonymous in the user and its tokens, so policies can tell)
// and signs it in, as GoTrue does for signInAnonymously.
func (s *Service) signUpAnonymous(ctx context.Context, p *store.Project, in SignUpInput) (*Session, *User, error) {
	if err := checkMetadata("data", in.Data); err != nil {
		return nil, nil, err
	}
	var sess *Session
	var user *User
	err := pgx.BeginFunc(ctx, s.c.Control, func(tx pgx.Tx) error {
		u, err := insertUser(ctx, tx, tablesOf(p), newUser{Anonymous: true, SignedIn: true, UserMetadata: in.Data})
		if err != nil {
			return err
		}
		user = u
		sess, err = s.startSession(ctx, tx, p, u, in.UserAgent)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return sess, user, nil
}

// SignIn is the password grant. An unknown email and a wrong password get
// the same answer after the same work (password.VerifyDummy).
func (s *Service) SignIn(ctx context.Context, p *store.Project, email, phone, pw, userAgent string) (*Session, error) {
	if email == "" && phone != "" {
		return nil, apierror.New(http.StatusBadRequest, CodePhoneProviderDisabled, "Phone logins are disabled")
	}
	if email == "" {
		return nil, apierror.New(http.StatusBadRequest, CodeValidationFailed, "missing email or phone")
	}
	norm := normalizePassword(pw)
	t := tablesOf(p)
	addr, err := normalizeEmail(email)
	var u *User
	if err == nil {
		u, err = userByEmail(ctx, s.c.Control, t, addr)
	}
	switch {
	case err == nil:
	case errors.Is(err, errUserNotFound) || isClientError(err):
		password.VerifyDummy(norm)
		return nil, errInvalidCredentials
	default:
		return nil, err
	}
	// Same work whether or not the user has a password (an account made by
	// an admin without one), so timing tells nothing either.
	ok := false
	if u.passwordHash != "" {
		ok = password.Verify(norm, u.passwordHash)
	} else {
		password.VerifyDummy(norm)
	}
	if !ok {
		return nil, errInvalidCredentials
	}
	if u.EmailConfirmedAt == nil {
		return nil, apierror.New(http.StatusBadRequest, CodeEmailNotConfirmed, "Email not confirmed")
	}
	var sess *Session
	err = pgx.BeginFunc(ctx, s.c.Control, func(tx pgx.Tx) error {
		u, err := scanUser(tx.QueryRow(ctx, `update `+t.users+` set last_sign_in_at = now() where id = $1 returning `+userCols, u.ID))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `update `+t.identities+` set last_sign_in_at = now() where user_id = $1 and provider = 'email'`, u.ID); err != nil {
			return err
		}
		if err := withIdentities(ctx, tx, t, u); err != nil {
			return err
		}
		sess, err = s.startSession(ctx, tx, p, u, userAgent)
		return err
	})
	if errors.Is(err, errUserNotFound) { // deleted meanwhile
		return nil, errInvalidCredentials
	}
	return sess, err
}

var errInvalidCredentials = apierror.New(http.StatusBadRequest, CodeInvalidCredentials, "Invalid login credentials")

func isClientError(err error) bool {
	var ae *apierror.Error
	return errors.As(err, &ae) && ae.Status < 500
}

func (s *Service) startSession(ctx context.Context, tx pgx.Tx, p *store.Project, u *User, userAgent string) (*Session, error) {
	sid, refresh, err := newSession(ctx, tx, tablesOf(p), u.ID, userAgent)
	if err != nil {
		return nil, err
	}
	return s.issue(ctx, p, u, sid, refresh)
}

// issue signs an access token for a session.
func (s *Service) issue(ctx context.Context, p *store.Project, u *User, sid uuid.UUID, refresh string) (*Session, error) {
	key, err := s.c.Keys.Signing(ctx, p.Ref)
	if err != nil {
		return nil, err
	}
	exp := SettingsOf(p).JWTExpiry
	now := time.Now()
	c := &AccessClaims{
		Issuer: Issuer(s.c.PublicURL, p.Ref), UserID: u.ID.String(), SessionID: sid.String(),
		Email: u.Email, Phone: u.Phone, AppMetadata: u.AppMetadata, UserMetadata: u.UserMetadata,
		IsAnonymous: u.IsAnonymous, IssuedAt: now, ExpiresAt: now.Add(exp),
	}
	tok, err := Sign(key, c)
	if err != nil {
		return nil, err
	}
	return &Session{AccessToken: tok, TokenType: "bearer", ExpiresIn: int(exp / time.Second), ExpiresAt: c.ExpiresAt.Unix(), RefreshToken: refresh, User: u}, nil
}

// Refresh is the refresh_token grant. The presented token is rotated: it is
// revoked and a child issued. A revoked token presented again within the
// project's refresh_reuse_seconds (two tabs refreshing at once) gets a new
// child too; later, the reuse is treated as theft and the whole session
// (every token of its family) is revoked.
// revokedTokenKeep is how long a rotated refresh token is kept for replay
// detection.
const revokedTokenKeep = 24 * time.Hour

func (s *Service) Refresh(ctx context.Context, p *store.Project, token, userAgent string) (*Session, error) {
	if token == "" {
		return nil, apierror.New(http.StatusBadRequest, CodeValidationFailed, "refresh_token required")
	}
	t := tablesOf(p)
	reuse := SettingsOf(p).RefreshReuse
	var sess *Session
	var reused bool
	err := pgx.BeginFunc(ctx, s.c.Control, func(tx pgx.Tx) error {
		var id int64
		var revoked, withinReuse bool
		var sid, uid uuid.UUID
		// Locking the session row serialises concurrent refreshes of one
		// session; the reuse window is measured on the database's clock,
		// the same one that stamped the revocation.
		err := tx.QueryRow(ctx, `select rt.id, rt.revoked, now() - rt.updated_at <= make_interval(secs => $2), s.id, s.user_id
			from `+t.refreshTokens+` rt join `+t.sessions+` s on s.id = rt.session_id
			where rt.token_hash = $1
			for no key update of rt, s`, HashRefreshToken(token), reuse.Seconds()).Scan(&id, &revoked, &withinReuse, &sid, &uid)
		if errors.Is(err, pgx.ErrNoRows) {
			return errRefreshNotFound
		}
		if err != nil {
			return err
		}
		if revoked && !withinReuse {
			reused = true
			_, err := tx.Exec(ctx, `delete from `+t.sessions+` where id = $1`, sid)
			return err
		}
		if !revoked {
			if _, err := tx.Exec(ctx, `update `+t.refreshTokens+` set revoked = true, updated_at = now() where id = $1`, id); err != nil {
				return err
			}
		}
		next := NewRefreshToken()
		if _, err := tx.Exec(ctx, `insert into `+t.refreshTokens+` (token_hash, session_id, parent_id) values ($1, $2, $3)`, HashRefreshToken(next), sid, id); err != nil {
			return err
		}
		// Rotated tokens are kept to catch a stolen one being replayed, but
		// not forever: an app refreshing hourly would otherwise add 8,760 rows
		// a year per session. Past revokedTokenKeep a replay finds no token
		// (refresh_token_not_found) rather than ending the session, as GoTrue's
		// cleanup does.
		if _, err := tx.Exec(ctx, `delete from `+t.refreshTokens+` where session_id = $1 and revoked and updated_at < now() - make_interval(secs => $2)`,
			sid, revokedTokenKeep.Seconds()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `update `+t.sessions+` set refreshed_at = now(), updated_at = now(), user_agent = coalesce($2, user_agent) where id = $1`, sid, nullIfEmpty(userAgent)); err != nil {
			return err
		}
		u, err := userByID(ctx, tx, t, uid, false)
		if err != nil {
			return err
		}
		if err := withIdentities(ctx, tx, t, u); err != nil {
			return err
		}
		sess, err = s.issue(ctx, p, u, sid, next)
		return err
	})
	if err != nil {
		return nil, err
	}
	if reused {
		return nil, apierror.New(http.StatusBadRequest, CodeRefreshTokenAlreadyUsed, "Invalid Refresh Token: Already Used")
	}
	return sess, nil
}

var errRefreshNotFound = apierror.New(http.StatusBadRequest, CodeRefreshTokenNotFound, "Invalid Refresh Token: Refresh Token Not Found")

// VerifyAccessToken checks a user's access token for project p. Token
// problems wrap ErrTokenExpired or ErrTokenInvalid; anything else is the
// key store failing.
func (s *Service) VerifyAccessToken(ctx context.Context, p *store.Project, token string) (*Verified, error) {
	keys, err := s.c.Keys.Set(ctx, p.Ref)
	if err != nil {
		return nil, err
	}
	return s.c.Keys.Verify(p.Ref, token, keys, Issuer(s.c.PublicURL, p.Ref), time.Now())
}

// authenticate is VerifyAccessToken with GoTrue's answers for the auth API.
func (s *Service) authenticate(ctx context.Context, p *store.Project, bearer string) (*Verified, error) {
	if bearer == "" {
		return nil, apierror.New(http.StatusUnauthorized, CodeNoAuthorization, "This endpoint requires a valid Bearer token")
	}
	v, err := s.VerifyAccessToken(ctx, p, bearer)
	if errors.Is(err, ErrTokenExpired) {
		return nil, apierror.New(http.StatusForbidden, CodeBadJWT, "invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired")
	}
	if errors.Is(err, ErrTokenInvalid) {
		return nil, apierror.New(http.StatusForbidden, CodeBadJWT, "invalid JWT: unable to parse or verify signature")
	}
	return v, err
}

// currentUser loads the user of a verified token whose session still exists.
func (s *Service) currentUser(ctx context.Context, q querier, p *store.Project, v *Verified, forUpdate bool) (*User, error) {
	t := tablesOf(p)
	uid, sid := uuid.MustParse(v.UserID), uuid.Nil
	if v.SessionID != "" {
		if id, err := uuid.Parse(v.SessionID); err == nil {
			sid = id
		}
	}
	var ok bool
	if err := q.QueryRow(ctx, `select exists (select 1 from `+t.sessions+` where id = $1 and user_id = $2)`, sid, uid).Scan(&ok); err != nil {
		return nil, err
	}
	if !ok {
		return nil, apierror.New(http.StatusForbidden, CodeSessionNotFound, "Session from session_id claim in JWT does not exist")
	}
	u, err := userByID(ctx, q, t, uid, forUpdate)
	if errors.Is(err, errUserNotFound) {
		return nil, apierror.New(http.StatusForbidden, CodeUserNotFound, "User from sub claim in JWT does not exist")
	}
	if err != nil {
		return nil, err
	}
	return u, withIdentities(ctx, q, t, u)
}

// GetUser is GET /user.
func (s *Service) GetUser(ctx context.Context, p *store.Project, bearer string) (*User, error) {
	v, err := s.authenticate(ctx, p, bearer)
	if err != nil {
		return nil, err
	}
	return s.currentUser(ctx, s.c.Control, p, v, false)
}

// UpdateInput is PUT /user's body; nil fields are left alone.
type UpdateInput struct {
	Email    *string
	Phone    *string
	Password *string
	Data     map[string]any
}

// UpdateUser is PUT /user: a new password, email (when auto_confirm is on:
// there is no mail to confirm a change with) or user_metadata keys (a null
// value removes a key, as GoTrue does).
func (s *Service) UpdateUser(ctx context.Context, p *store.Project, bearer string, in UpdateInput) (*User, error) {
	v, err := s.authenticate(ctx, p, bearer)
	if err != nil {
		return nil, err
	}
	if in.Phone != nil && *in.Phone != "" {
		return nil, apierror.New(http.StatusUnprocessableEntity, CodePhoneProviderDisabled, "Phone sign-ins are disabled")
	}
	var email, newHash string
	if in.Email != nil && *in.Email != "" {
		if email, err = normalizeEmail(*in.Email); err != nil {
			return nil, err
		}
		if !SettingsOf(p).AutoConfirm {
			return nil, apierror.New(http.StatusUnprocessableEntity, CodeValidationFailed, "Changing the email needs a confirmation mail, which this server does not send; ask an admin to change it")
		}
	}
	var pw string
	if in.Password != nil {
		if pw, err = checkNewPassword(*in.Password); err != nil {
			return nil, err
		}
	}
	if err := checkMetadata("data", in.Data); err != nil {
		return nil, err
	}
	t := tablesOf(p)
	if pw != "" {
		// Compare with the current password before paying for a new hash.
		u, err := s.currentUser(ctx, s.c.Control, p, v, false)
		if err != nil {
			return nil, err
		}
		if u.passwordHash != "" && password.Verify(pw, u.passwordHash) {
			return nil, apierror.New(http.StatusUnprocessableEntity, CodeSamePassword, "New password should be different from the old password.")
		}
		if newHash, err = password.Hash(pw, s.c.Password); err != nil {
			return nil, fmt.Errorf("hash password: %w", err)
		}
	}
	var out *User
	err = pgx.BeginFunc(ctx, s.c.Control, func(tx pgx.Tx) error {
		u, err := s.currentUser(ctx, tx, p, v, true)
		if err != nil {
			return err
		}
		meta, err := mergeMetadata("user_metadata", u.UserMetadata, in.Data)
		if err != nil {
			return err
		}
		metaJSON, err := json.Marshal(meta)
		if err != nil {
			return err
		}
		// An anonymous user who adds an email becomes a permanent one (the
		// email is confirmed at once: auto_confirm is on to get here). A
		// password needs that email, as in GoTrue.
		linking := u.IsAnonymous && email != ""
		if u.IsAnonymous && email == "" && newHash != "" {
			return apierror.New(http.StatusUnprocessableEntity, CodeValidationFailed, "An anonymous user needs an email before a password")
		}
		wasAnonymous := u.IsAnonymous
		u, err = scanUser(tx.QueryRow(ctx, `update `+t.users+` set
				raw_user_meta_data = $2,
				encrypted_password = coalesce(nullif($3, ''), encrypted_password),
				email = coalesce(nullif($4, ''), email),
				email_confirmed_at = case when $5 then now() else email_confirmed_at end,
				is_anonymous = is_anonymous and not $5,
				raw_app_meta_data = case when $5 then raw_app_meta_data || '{"provider":"email","providers":["email"]}' else raw_app_meta_data end,
				updated_at = now()
			where id = $1 returning `+userCols, u.ID, metaJSON, newHash, email, linking))
		if isUniqueViolation(err) {
			return apierror.New(http.StatusUnprocessableEntity, CodeEmailExists, "A user with this email address has already been registered")
		}
		if err != nil {
			return err
		}
		switch {
		case wasAnonymous && email != "":
			if err := insertEmailIdentity(ctx, tx, t, u.ID, email, true, false); err != nil {
				return err
			}
		case email != "":
			if _, err := tx.Exec(ctx, `update `+t.identities+` set identity_data = identity_data || jsonb_build_object('email', $2::text), updated_at = now()
				where user_id = $1 and provider = 'email'`, u.ID, email); err != nil {
				return err
			}
		}
		out = u
		return withIdentities(ctx, tx, t, u)
	})
	return out, err
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// Logout scopes (auth-js SIGN_OUT_SCOPES).
const (
	ScopeGlobal = "global"
	ScopeLocal  = "local"
	ScopeOthers = "others"
)

// Logout ends sessions: this one (local), every one of the user (global,
// the default) or every other one (others). Their refresh tokens go with
// them; access tokens already issued stay valid until they expire, as in
// GoTrue, but GET /user refuses them.
func (s *Service) Logout(ctx context.Context, p *store.Project, bearer, scope string) error {
	v, err := s.authenticate(ctx, p, bearer)
	if err != nil {
		return err
	}
	// As GoTrue: the token's session must still exist (403
	// session_not_found otherwise, which auth-js ignores on sign-out).
	if _, err := s.currentUser(ctx, s.c.Control, p, v, false); err != nil {
		return err
	}
	t := tablesOf(p)
	uid := uuid.MustParse(v.UserID)
	sid, _ := uuid.Parse(v.SessionID)
	switch scope {
	case "", ScopeGlobal:
		_, err = s.c.Control.Exec(ctx, `delete from `+t.sessions+` where user_id = $1`, uid)
	case ScopeLocal:
		_, err = s.c.Control.Exec(ctx, `delete from `+t.sessions+` where id = $1 and user_id = $2`, sid, uid)
	case ScopeOthers:
		_, err = s.c.Control.Exec(ctx, `delete from `+t.sessions+` where user_id = $1 and id <> $2`, uid, sid)
	default:
		return apierror.Newf(http.StatusBadRequest, CodeValidationFailed, "Unsupported logout scope %q (want global, local or others)", scope)
	}
	return err
}

// AdminCreateInput creates a user on behalf of an admin or a service key.
type AdminCreateInput struct {
	Email        string
	Phone        string
	Password     string
	EmailConfirm *bool // nil: the project's auto_confirm
	UserMetadata map[string]any
	AppMetadata  map[string]any
}

// CreateUser adds a user without signing them in. Without a password the
// user cannot sign in until one is set.
func (s *Service) CreateUser(ctx context.Context, p *store.Project, in AdminCreateInput) (*User, error) {
	if in.Email == "" && in.Phone != "" {
		return nil, apierror.New(http.StatusBadRequest, CodePhoneProviderDisabled, "Phone users are not supported")
	}
	if in.Email == "" {
		return nil, apierror.New(http.StatusBadRequest, CodeValidationFailed, "Cannot create a user without either an email or phone")
	}
	email, err := normalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	var hash string
	if in.Password != "" {
		pw, err := checkNewPassword(in.Password)
		if err != nil {
			return nil, err
		}
		if hash, err = password.Hash(pw, s.c.Password); err != nil {
			return nil, fmt.Errorf("hash password: %w", err)
		}
	}
	if err := checkMetadata("user_metadata", in.UserMetadata); err != nil {
		return nil, err
	}
	if err := checkMetadata("app_metadata", in.AppMetadata); err != nil {
		return nil, err
	}
	confirm := SettingsOf(p).AutoConfirm
	if in.EmailConfirm != nil {
		confirm = *in.EmailConfirm
	}
	var out *User
	err = pgx.BeginFunc(ctx, s.c.Control, func(tx pgx.Tx) error {
		u, err := insertUser(ctx, tx, tablesOf(p), newUser{Email: email, PasswordHash: hash, Confirmed: confirm,
			UserMetadata: in.UserMetadata, AppMetadata: in.AppMetadata})
		if err != nil {
			return err
		}
		if u == nil {
			return apierror.New(http.StatusUnprocessableEntity, CodeEmailExists, "A user with this email address has already been registered")
		}
		out = u
		return nil
	})
	return out, err
}

// AdminUpdateInput changes a user on behalf of a service key (GoTrue's
// admin update): metadata keys are merged (a null value removes the key),
// the rest replaced.
type AdminUpdateInput struct {
	Email        *string
	Phone        *string
	Password     *string
	EmailConfirm *bool
	UserMetadata map[string]any
	AppMetadata  map[string]any
}

// UpdateUserByID is auth.admin.updateUserById. A new email is confirmed
// with email_confirm or the project's auto_confirm; an anonymous user given
// an email becomes a permanent one.
func (s *Service) UpdateUserByID(ctx context.Context, p *store.Project, id string, in AdminUpdateInput) (*User, error) {
	uid, err := uuid.Parse(id)
	if err != nil {
		return nil, errNoSuchUser
	}
	if in.Phone != nil && *in.Phone != "" {
		return nil, apierror.New(http.StatusBadRequest, CodePhoneProviderDisabled, "Phone users are not supported")
	}
	var email, hash string
	if in.Email != nil && *in.Email != "" {
		if email, err = normalizeEmail(*in.Email); err != nil {
			return nil, err
		}
	}
	if in.Password != nil {
		pw, err := checkNewPassword(*in.Password)
		if err != nil {
			return nil, err
		}
		if hash, err = password.Hash(pw, s.c.Password); err != nil {
			return nil, fmt.Errorf("hash password: %w", err)
		}
	}
	confirm := (in.EmailConfirm != nil && *in.EmailConfirm) || (email != "" && in.EmailConfirm == nil && SettingsOf(p).AutoConfirm)
	t := tablesOf(p)
	var out *User
	err = pgx.BeginFunc(ctx, s.c.Control, func(tx pgx.Tx) error {
		u, err := userByID(ctx, tx, t, uid, true)
		if errors.Is(err, errUserNotFound) {
			return errNoSuchUser
		}
		if err != nil {
			return err
		}
		meta, err := mergeMetadata("user_metadata", u.UserMetadata, in.UserMetadata)
		if err != nil {
			return err
		}
		patch := maps.Clone(in.AppMetadata)
		delete(patch, "provider") // the sign-in methods' own keys
		delete(patch, "providers")
		app, err := mergeMetadata("app_metadata", u.AppMetadata, patch)
		if err != nil {
			return err
		}
		linking := u.IsAnonymous && email != ""
		if linking {
			app["provider"], app["providers"] = "email", []string{"email"}
		}
		metaJSON, err := json.Marshal(meta)
		if err != nil {
			return err
		}
		appJSON, err := json.Marshal(app)
		if err != nil {
			return err
		}
		updated, err := scanUser(tx.QueryRow(ctx, `update `+t.users+` set
				raw_user_meta_data = $2, raw_app_meta_data = $3,
				encrypted_password = coalesce(nullif($4, ''), encrypted_password),
				email = coalesce(nullif($5, ''), email),
				email_confirmed_at = case when $6 then coalesce(email_confirmed_at, now())
					when $5 <> '' and $5 is distinct from email then null else email_confirmed_at end,
				is_anonymous = is_anonymous and not $7,
				updated_at = now()
			where id = $1 returning `+userCols, uid, metaJSON, appJSON, hash, email, confirm, linking))
		if isUniqueViolation(err) {
			return apierror.New(http.StatusUnprocessableEntity, CodeEmailExists, "A user with this email address has already been registered")
		}
		if err != nil {
			return err
		}
		switch {
		case linking:
			err = insertEmailIdentity(ctx, tx, t, uid, email, confirm, false)
		case email != "":
			_, err = tx.Exec(ctx, `update `+t.identities+` set identity_data = identity_data || jsonb_build_object('email', $2::text, 'email_verified', $3::bool), updated_at = now()
				where user_id = $1 and provider = 'email'`, uid, email, updated.EmailConfirmedAt != nil)
		}
		if err != nil {
			return err
		}
		out = updated
		return withIdentities(ctx, tx, t, updated)
	})
	return out, err
}

// mergeMetadata applies a metadata patch: keys set, a null value removing
// its key, within the size bound.
func mergeMetadata(name string, old, patch map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(old)+len(patch))
	for k, v := range old {
		out[k] = v
	}
	for k, v := range patch {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out, checkMetadata(name, out)
}

// GetUserByID returns one user (404 user_not_found).
func (s *Service) GetUserByID(ctx context.Context, p *store.Project, id string) (*User, error) {
	uid, err := uuid.Parse(id)
	if err != nil {
		return nil, errNoSuchUser
	}
	t := tablesOf(p)
	u, err := userByID(ctx, s.c.Control, t, uid, false)
	if errors.Is(err, errUserNotFound) {
		return nil, errNoSuchUser
	}
	if err != nil {
		return nil, err
	}
	return u, withIdentities(ctx, s.c.Control, t, u)
}

var errNoSuchUser = apierror.New(http.StatusNotFound, CodeUserNotFound, "User not found")

// ListUsers pages through a project's users, newest first; search matches
// a substring of the email, case-insensitively.
func (s *Service) ListUsers(ctx context.Context, p *store.Project, search string, limit, offset int) ([]*User, int, error) {
	t := tablesOf(p)
	search = strings.ToLower(strings.TrimSpace(search))
	var total int
	if err := s.c.Control.QueryRow(ctx, `select count(*) from `+t.users+` where $1 = '' or strpos(email, $1) > 0`, search).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.c.Control.Query(ctx, `select `+userCols+` from `+t.users+`
		where $1 = '' or strpos(email, $1) > 0 order by created_at desc, id limit $2 offset $3`, search, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	users := []*User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			rows.Close()
			return nil, 0, err
		}
		users = append(users, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	return users, total, withIdentities(ctx, s.c.Control, t, users...)
}

// DeleteUser removes a user with their sessions and identities. It runs
// on the project's own pool as its owner: the delete may cascade into the
// project's tables (and fire their triggers), which is tenant code. A
// foreign key of the project that forbids the delete answers 409.
func (s *Service) DeleteUser(ctx context.Context, p *store.Project, id string) error {
	uid, err := uuid.Parse(id)
	if err != nil {
		return errNoSuchUser
	}
	tp, err := s.c.Pools.Get(ctx, p.Ref)
	if err != nil {
		return err
	}
	row, err := pool.QueryRow(ctx, tp, pool.Session{Role: p.Schema + "_owner", StatementTimeout: s.c.StatementTimeout},
		`delete from `+tablesOf(p).users+` where id = $1 returning id`, uid)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" {
		return apierror.Newf(http.StatusConflict, CodeConflict, "The user is still referenced by the project's tables: %s", pe.Message).WithDetails(pe.Detail)
	}
	if err != nil {
		return err
	}
	if row == nil {
		return errNoSuchUser
	}
	return nil
}

// JWKS returns the project's public keys, making its first key if needed so
// a verifier that fetches them before any sign-in has something to cache.
func (s *Service) JWKS(ctx context.Context, p *store.Project) ([]JWK, error) {
	if _, err := s.c.Keys.Signing(ctx, p.Ref); err != nil {
		return nil, err
	}
	keys, err := s.c.Keys.Set(ctx, p.Ref)
	if err != nil {
		return nil, err
	}
	return JWKS(keys)
}
