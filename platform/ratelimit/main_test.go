package ratelimit

import (
	"os"
	"testing"

	"github.com/plinth-dev/plinth/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
