//go:build unix && !linux

package devdb

import "syscall"

// setParentDeathSignal is a no-op where the kernel has no such feature; the
// caller must stop its servers.
func setParentDeathSignal(*syscall.SysProcAttr, syscall.Signal) {}
