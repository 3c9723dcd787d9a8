package adminapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/store"
)

// maxRowsLimit bounds max_rows: a larger response is a denial of service.
const maxRowsLimit = 1_000_000

func (a *API) getSettings(c *fiber.Ctx) error { return c.JSON(project(c).Settings) }

// patchSettings merges the given fields into the settings; "max_rows": null
// goes back to the platform default.
func (a *API) patchSettings(c *fiber.Ctx) error {
	p := project(c)
	var in struct {
		CORSOrigins   *[]string           `json:"cors_origins"`
		MaxRows       json.RawMessage     `json:"max_rows"`
		Auth          *store.AuthSettings `json:"auth"`
		RateLimitFail *string             `json:"rate_limit_fail"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	st := p.Settings
	if in.CORSOrigins != nil {
		for _, o := range *in.CORSOrigins {
			if !validOrigin(o) {
				return badSetting("cors_origins: %q is not \"*\" or an origin like https://app.example.com", o)
			}
		}
		st.CORSOrigins = *in.CORSOrigins
	}
	if len(in.MaxRows) > 0 {
		if bytes.Equal(in.MaxRows, []byte("null")) {
			st.MaxRows = nil
		} else {
			var n int
			if err := json.Unmarshal(in.MaxRows, &n); err != nil || n < 1 || n > maxRowsLimit {
				return badSetting("max_rows must be an integer from 1 to %d, or null", maxRowsLimit)
			}
			st.MaxRows = &n
		}
	}
	if in.Auth != nil {
		if err := mergeAuth(&st.Auth, in.Auth); err != nil {
			return err
		}
	}
	if in.RateLimitFail != nil {
		if v := *in.RateLimitFail; v != "" && v != "open" && v != "closed" {
			return badSetting("rate_limit_fail must be \"open\", \"closed\" or \"\" (platform default)")
		}
		st.RateLimitFail = *in.RateLimitFail
	}
	audit := store.Audit{ProjectRef: p.Ref, Actor: caller(c).actor(), Action: "settings.update", Target: p.Ref, Detail: json.RawMessage(c.Body())}
	if err := a.d.Store.UpdateSettings(c.UserContext(), p.Ref, st, audit); err != nil {
		return err
	}
	a.d.Invalidate(p.Ref)
	return c.JSON(st)
}

func mergeAuth(dst, in *store.AuthSettings) error {
	if in.AutoConfirm != nil {
		dst.AutoConfirm = in.AutoConfirm
	}
	if in.AllowSignup != nil {
		dst.AllowSignup = in.AllowSignup
	}
	if in.AnonymousSignIns != nil {
		dst.AnonymousSignIns = in.AnonymousSignIns
	}
	if v := in.JWTExpirySeconds; v != nil {
		if *v < 60 || *v > 7*24*3600 {
			return badSetting("auth.jwt_expiry_seconds must be from 60 to 604800")
		}
		dst.JWTExpirySeconds = v
	}
	if v := in.RefreshReuseSeconds; v != nil {
		if *v < 0 || *v > 3600 {
			return badSetting("auth.refresh_reuse_seconds must be from 0 to 3600")
		}
		dst.RefreshReuseSeconds = v
	}
	return nil
}

func validOrigin(o string) bool {
	if o == "*" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && (u.Path == "" || u.Path == "/") && u.RawQuery == "" && u.User == nil
}

func badSetting(format string, args ...any) error {
	return apierror.Newf(http.StatusBadRequest, apierror.CodeBadRequest, format, args...)
}
