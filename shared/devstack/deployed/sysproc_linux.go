package deployed

import "syscall"

// sysProcAttr puts a child in its own process group and kills it with its parent, so an
// interrupted test or make up leaves no service behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
