package auth

import (
	"crypto/ecdsa"
	"testing"
	"time"
)

// The data API verifies a user's token on every request: this is its cost.
func BenchmarkVerify(b *testing.B) {
	k, err := NewSigningKey()
	if err != nil {
		b.Fatal(err)
	}
	set := &KeySet{Active: k, ByKID: map[string]*ecdsa.PublicKey{k.KID: k.Public}}
	now := time.Now()
	c := &AccessClaims{Issuer: "http://x/p/demo/auth/v1", UserID: "8a3c0a4e-6c43-4a8b-9f9e-0d5d2b1f0e11", SessionID: "s", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	tok, err := Sign(k, c)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(tok, set, c.Issuer, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	k, err := NewSigningKey()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	c := &AccessClaims{Issuer: "http://x/p/demo/auth/v1", UserID: "8a3c0a4e-6c43-4a8b-9f9e-0d5d2b1f0e11", SessionID: "s", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(k, c); err != nil {
			b.Fatal(err)
		}
	}
}

// What the data API pays for a token it has seen before (Keys.Verify).
func BenchmarkVerifyCached(b *testing.B) {
	k, err := NewSigningKey()
	if err != nil {
		b.Fatal(err)
	}
	set := &KeySet{Active: k, ByKID: map[string]*ecdsa.PublicKey{k.KID: k.Public}}
	keys := NewKeys(nil, nil, 10, time.Minute)
	now := time.Now()
	c := &AccessClaims{Issuer: "http://x/p/demo/auth/v1", UserID: "8a3c0a4e-6c43-4a8b-9f9e-0d5d2b1f0e11", SessionID: "s", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	tok, err := Sign(k, c)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := keys.Verify("demo", tok, set, c.Issuer, now); err != nil {
			b.Fatal(err)
		}
	}
}
