//go:build !linux

package testenv

import "syscall"

func serveProcAttr() *syscall.SysProcAttr { return nil }
