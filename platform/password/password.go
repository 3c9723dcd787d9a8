// Package password hashes and checks passwords with argon2id in the PHC
// string format, so parameters can be raised later without breaking old hashes.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// Default follows the OWASP minimum for argon2id (19 MiB, 2 passes).
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// MaxLength bounds the input so hashing cost stays fixed; argon2 accepts any
// length, but a megabyte "password" is an attack, not a password.
const MaxLength = 1024

var ErrTooLong = errors.New("password is too long")

const saltLen, keyLen = 16, 32

var b64 = base64.RawStdEncoding

// Hash returns a PHC-formatted argon2id hash of pw.
func Hash(pw string, p Params) (string, error) {
	if len(pw) > MaxLength {
		return "", ErrTooLong
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether pw matches the encoded hash, in constant time.
func Verify(pw, encoded string) bool {
	if len(pw) > MaxLength {
		return false
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false
	}
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummy is verified against when an account does not exist, so a sign-in for
// an unknown email costs the same as one with a wrong password.
var dummy, _ = Hash("plinth-dummy-password", Default)

// VerifyDummy burns the same time as Verify for a missing account.
func VerifyDummy(pw string) { Verify(pw, dummy) }
