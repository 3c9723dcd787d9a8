package auth

import (
	"encoding/json"
	"time"
)

// userJSON is GoTrue's user object, as auth-js types it (User in types.ts).
type userJSON struct {
	ID               string         `json:"id"`
	Aud              string         `json:"aud"`
	Role             string         `json:"role"`
	Email            string         `json:"email"`
	EmailConfirmedAt *time.Time     `json:"email_confirmed_at,omitempty"`
	Phone            string         `json:"phone"`
	ConfirmedAt      *time.Time     `json:"confirmed_at,omitempty"`
	LastSignInAt     *time.Time     `json:"last_sign_in_at,omitempty"`
	AppMetadata      map[string]any `json:"app_metadata"`
	UserMetadata     map[string]any `json:"user_metadata"`
	Identities       []identityJSON `json:"identities"`
	CreatedAt        time.Time      `json:"created_at"`
	UpdatedAt        time.Time      `json:"updated_at"`
	IsAnonymous      bool           `json:"is_anonymous"`
}

type identityJSON struct {
	IdentityID   string         `json:"identity_id"`
	ID           string         `json:"id"`
	UserID       string         `json:"user_id"`
	IdentityData map[string]any `json:"identity_data"`
	Provider     string         `json:"provider"`
	LastSignInAt *time.Time     `json:"last_sign_in_at,omitempty"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
	Email        string         `json:"email,omitempty"`
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// MarshalJSON renders GoTrue's shape; the password hash never leaves.
func (u *User) MarshalJSON() ([]byte, error) {
	out := userJSON{
		ID: u.ID.String(), Aud: u.Aud, Role: u.Role, Email: u.Email, Phone: u.Phone,
		EmailConfirmedAt: utc(u.EmailConfirmedAt), ConfirmedAt: utc(u.EmailConfirmedAt), LastSignInAt: utc(u.LastSignInAt),
		AppMetadata: u.AppMetadata, UserMetadata: u.UserMetadata, Identities: []identityJSON{},
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(), IsAnonymous: u.IsAnonymous,
	}
	if out.AppMetadata == nil {
		out.AppMetadata = map[string]any{}
	}
	if out.UserMetadata == nil {
		out.UserMetadata = map[string]any{}
	}
	for _, i := range u.Identities {
		email, _ := i.Data["email"].(string)
		data := i.Data
		if data == nil {
			data = map[string]any{}
		}
		out.Identities = append(out.Identities, identityJSON{
			IdentityID: i.ID.String(), ID: i.ProviderID, UserID: i.UserID.String(), IdentityData: data,
			Provider: i.Provider, LastSignInAt: utc(i.LastSignInAt), CreatedAt: i.CreatedAt.UTC(), UpdatedAt: i.UpdatedAt.UTC(), Email: email,
		})
	}
	return json.Marshal(out)
}
