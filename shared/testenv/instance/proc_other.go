//go:build !linux

package instance

import (
	"errors"
	"syscall"
)

// procAttr runs a server as cred (nil: as the test). Only Linux can tie the server's
// life to the test binary's, so elsewhere a test binary killed before its cleanup leaves
// its servers running.
func procAttr(cred *syscall.Credential, _ syscall.Signal) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred}
}

// descendants returns nothing: without /proc, a killed PostgreSQL's backends are left to
// notice their postmaster's death and exit on their own.
func descendants(int) []int { return nil }

// alive reports whether pid is running (or a zombie).
func alive(pid int) bool {
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
