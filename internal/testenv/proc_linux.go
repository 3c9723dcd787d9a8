package testenv

import "syscall"

// serveProcAttr kills a server whose test process died without stopping it.
func serveProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
