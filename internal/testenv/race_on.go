//go:build race

package testenv

// raceEnabled makes BuildPlinth build with -race when the tests are.
const raceEnabled = true
