package password

import (
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	cases := []string{"", "correct horse", "пароль-日本語-🔑", strings.Repeat("x", MaxLength)}
	for _, pw := range cases {
		h, err := Hash(pw, Default)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(h, pw) && pw != "" {
			t.Fatalf("hash contains the password")
		}
		if !Verify(pw, h) {
			t.Fatalf("Verify(%q) = false", pw)
		}
		if Verify(pw+"x", h) {
			t.Fatalf("Verify accepted a different password")
		}
	}
	if _, err := Hash(strings.Repeat("x", MaxLength+1), Default); err != ErrTooLong {
		t.Fatalf("want ErrTooLong, got %v", err)
	}
	for _, bad := range []string{"", "$argon2id$", "$bcrypt$v=1$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA"} {
		if Verify("x", bad) {
			t.Fatalf("Verify accepted malformed hash %q", bad)
		}
	}
}
