// Package seal encrypts small per-project secrets (login passwords, signing
// keys) at rest with a key derived from PLINTH_SECRET_KEY.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Sealer seals and opens byte strings with AES-256-GCM.
type Sealer struct{ aead cipher.AEAD }

// New derives the sealing key from the server secret. Short secrets are
// refused: the secret protects every project's credentials.
func New(secret string) (*Sealer, error) {
	if len(secret) < 16 {
		return nil, errors.New("PLINTH_SECRET_KEY must be at least 16 characters")
	}
	key := sha256.Sum256([]byte("plinth-seal-v1\x00" + secret))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal returns nonce||ciphertext. aad binds the secret to its owner (e.g. the
// project ref) so a sealed value cannot be moved to another row.
func (s *Sealer) Seal(plain, aad []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return s.aead.Seal(nonce, nonce, plain, aad)
}

// Open reverses Seal.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("seal: value too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, fmt.Errorf("seal: cannot open (wrong PLINTH_SECRET_KEY?): %w", err)
	}
	return plain, nil
}
