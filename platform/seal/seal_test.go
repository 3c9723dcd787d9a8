package seal

import (
	"bytes"
	"testing"
)

func TestSealRoundTripAndBinding(t *testing.T) {
	s, err := New("0123456789abcdef-secret")
	if err != nil {
		t.Fatal(err)
	}
	sealed := s.Seal([]byte("hunter2"), []byte("proj-a"))
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Fatal("sealed value contains the plaintext")
	}
	got, err := s.Open(sealed, []byte("proj-a"))
	if err != nil || string(got) != "hunter2" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := s.Open(sealed, []byte("proj-b")); err == nil {
		t.Fatal("a value sealed for one project opened for another")
	}
	other, _ := New("another-secret-of-enough-length")
	if _, err := other.Open(sealed, []byte("proj-a")); err == nil {
		t.Fatal("opened with the wrong server secret")
	}
	if _, err := New("short"); err == nil {
		t.Fatal("short secret accepted")
	}
}
