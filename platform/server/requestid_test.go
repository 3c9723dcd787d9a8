package server

import (
	"sync"
	"testing"

	"github.com/google/uuid"
)

// Generated request ids are UUIDs (version 8), distinct across goroutines
// and across servers.
func TestRequestIDs(t *testing.T) {
	t.Parallel()
	a, b := newRequestIDs(), newRequestIDs()
	seen := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				for _, id := range []string{a.next(), b.next()} {
					u, err := uuid.Parse(id)
					if err != nil || u.Version() != 8 || u.Variant() != uuid.RFC4122 || !validRequestID(id) {
						t.Errorf("id %q: %v version %d variant %v", id, err, u.Version(), u.Variant())
						return
					}
					mu.Lock()
					if seen[id] {
						t.Errorf("id %q made twice", id)
					}
					seen[id] = true
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
}
