package provision

import (
	"regexp"
	"testing"
)

// FuzzValidRef holds the hand-written check to the pattern DESIGN.md §3
// gives for refs.
func FuzzValidRef(f *testing.F) {
	pattern := regexp.MustCompile(`^[a-z][a-z0-9-]{1,38}[a-z0-9]$`)
	for _, s := range []string{"abc", "a-b", "ab", "a1", "1ab", "ab-", "abc-def-123", "ABC", "a_b", "a b",
		"abcdefghijabcdefghijabcdefghijabcdefghij", "abcdefghijabcdefghijabcdefghijabcdefghijk", "ab\n", "é-ab"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		if got, want := ValidRef(ref), pattern.MatchString(ref); got != want {
			t.Fatalf("ValidRef(%q) = %v, the pattern says %v", ref, got, want)
		}
	})
}
