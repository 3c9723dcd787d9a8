package auth

import (
	"crypto/ecdsa"
	"errors"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/plinth-dev/plinth/platform/apierror"
)

// FuzzAuthInput covers what the auth endpoints do with a request before
// touching the database: decoding the sign-up/sign-in body, validating the
// email and new password, and verifying a bearer token. No input may panic;
// every refusal is a 4xx (decode and validation) or one of the two token
// errors; and no token but a genuine one of the project verifies.
// Run longer with: go test -run '^$' -fuzz FuzzAuthInput ./tenants/auth/
func FuzzAuthInput(f *testing.F) {
	key, err := NewSigningKey()
	if err != nil {
		f.Fatal(err)
	}
	keys := &KeySet{Active: key, ByKID: map[string]*ecdsa.PublicKey{key.KID: key.Public}}
	now := time.Now()
	good, err := Sign(key, testClaims(now))
	if err != nil {
		f.Fatal(err)
	}
	for _, body := range []string{
		`{"email":"a@example.com","password":"secret123","data":{"name":"x"}}`,
		`{"email":"A@Example.COM ","password":"é́́́́́"}`,
		`{"email":"x\"@y","password":""}`,
		`{"email":"<a@b.c>","password":"123"}`,
		`{"email":"a@b.c","password":"\xff\xfe"}`,
		`{"email":["a"],"password":{}}`,
		`{"data":` + `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]` + `}`,
		`{"email":"a@b.c"`,
		`null`,
		``,
		"{\"email\":\"a\x00@b.c\"}",
	} {
		f.Add([]byte(body), good)
	}
	f.Add([]byte(`{}`), "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
	f.Add([]byte(`{}`), good[:len(good)-2]+"AA")
	app := fiber.New()
	f.Fuzz(func(t *testing.T, body []byte, token string) {
		fctx := &fasthttp.RequestCtx{}
		fctx.Request.SetBody(body)
		c := app.AcquireCtx(fctx)
		defer app.ReleaseCtx(c)
		clientError := func(what string, err error) {
			if e := apierror.From(err, false); e.Status < 400 || e.Status >= 500 {
				t.Fatalf("%s: status %d for %q: %v", what, e.Status, body, err)
			}
		}
		var in struct {
			Email    string         `json:"email"`
			Password string         `json:"password"`
			Data     map[string]any `json:"data"`
		}
		if err := decodeBody(c, &in); err != nil {
			clientError("decode", err)
		} else {
			if _, err := normalizeEmail(in.Email); err != nil {
				clientError("email", err)
			}
			if _, err := checkNewPassword(in.Password); err != nil {
				clientError("password", err)
			}
			if err := checkMetadata("data", in.Data); err != nil {
				clientError("metadata", err)
			}
		}
		v, err := Verify(token, keys, testIssuer, now)
		switch {
		case err != nil:
			if !errors.Is(err, ErrTokenInvalid) && !errors.Is(err, ErrTokenExpired) {
				t.Fatalf("token error %v is neither invalid nor expired", err)
			}
		case token != good && v.UserID == "":
			t.Fatalf("token %q verified without a user", token)
		}
	})
}
