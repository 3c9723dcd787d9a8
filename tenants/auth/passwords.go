package auth

import (
	"net/http"
	"net/mail"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/password"
)

// MinPasswordLength is GoTrue's default minimum, counted in characters.
const MinPasswordLength = 6

// maxEmailLength is GoTrue's limit.
const maxEmailLength = 255

// normalizePassword maps a password to NFKC (NIST SP 800-63B §5.1.1.2), so
// the same password typed on systems that compose accents differently
// ("é" as one code point or as e + combining accent) is the same password.
func normalizePassword(pw string) string { return norm.NFKC.String(pw) }

// checkNewPassword validates a password being set and returns its
// normalized form. Errors are GoTrue's: 422 weak_password (with reasons,
// which auth-js exposes as AuthWeakPasswordError) or 422 validation_failed.
func checkNewPassword(pw string) (string, error) {
	if pw == "" {
		return "", apierror.New(http.StatusUnprocessableEntity, CodeValidationFailed, "Password is required")
	}
	if !utf8.ValidString(pw) {
		return "", apierror.New(http.StatusUnprocessableEntity, CodeValidationFailed, "Password must be valid UTF-8")
	}
	n := normalizePassword(pw)
	if len(pw) > password.MaxLength || len(n) > password.MaxLength {
		return "", apierror.Newf(http.StatusUnprocessableEntity, CodeValidationFailed, "Password cannot be longer than %d bytes", password.MaxLength)
	}
	if utf8.RuneCountInString(n) < MinPasswordLength {
		return "", weakPassword("Password should be at least 6 characters.", "length")
	}
	return n, nil
}

func weakPassword(msg string, reasons ...string) error {
	return apierror.New(http.StatusUnprocessableEntity, CodeWeakPassword, msg).
		WithDetails(map[string]any{"weak_password": map[string]any{"reasons": reasons, "message": msg}})
}

// normalizeEmail validates an address as GoTrue does (a bare address, at
// most 255 characters) and lower-cases it: emails are unique per project
// regardless of case.
func normalizeEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", apierror.New(http.StatusBadRequest, CodeValidationFailed, "An email address is required")
	}
	if len(email) > maxEmailLength {
		return "", apierror.New(http.StatusBadRequest, CodeValidationFailed, "An email address is too long")
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" {
		return "", apierror.New(http.StatusBadRequest, CodeValidationFailed, "Unable to validate email address: invalid format")
	}
	return strings.ToLower(email), nil
}
