package devdb

import "syscall"

// setParentDeathSignal makes the kernel signal the child when the thread that
// started it exits. Go only ends threads of goroutines that exit while locked
// to them (go.dev/issue/27505), which nothing here does.
func setParentDeathSignal(a *syscall.SysProcAttr, sig syscall.Signal) {
	a.Pdeathsig = sig
}
