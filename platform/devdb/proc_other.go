//go:build !unix

package devdb

import (
	"errors"
	"syscall"
)

func serverAccount() (*account, error) {
	return nil, errors.New("devdb: private servers are supported on Unix only")
}

func sysProcAttr(*account, syscall.Signal) *syscall.SysProcAttr { return nil }

func giveTo(*account, string) error { return nil }

func ownedBy(*account, string) (bool, error) { return true, nil }

func makeTraversable(*account, string, logger) error { return nil }
