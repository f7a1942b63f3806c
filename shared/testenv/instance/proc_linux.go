//go:build linux

package instance

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// procAttr runs a server as cred (nil: as the test) and has the kernel send it
// onParentDeath if the test binary dies before its cleanup runs (a timeout panic, a
// kill -9), so servers never outlive their test run. The kernel ties that signal to the
// thread that started the server, not the process; Go keeps its threads unless a
// goroutine locked to one exits, which nothing here does.
func procAttr(cred *syscall.Credential, onParentDeath syscall.Signal) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: onParentDeath}
}

// descendants returns the live processes below pid. It reads /proc rather than killing a
// process group because PostgreSQL puts every backend in a group of its own.
func descendants(pid int) []int {
	below := map[int][]int{} // parent → children
	forEachProc(func(p, ppid int, _ byte) { below[ppid] = append(below[ppid], p) })
	var all []int
	for next := []int{pid}; len(next) > 0; {
		p := next[0]
		next = append(next[1:], below[p]...)
		all = append(all, below[p]...)
	}
	return all
}

// alive reports whether pid is running. A zombie is not: it holds nothing but its exit
// status, and killed orphans may stay zombies for good when PID 1 (in a container, often
// not an init) never reaps them.
func alive(pid int) bool {
	_, state, ok := stat(strconv.Itoa(pid))
	return ok && state != 'Z'
}

// forEachProc calls f with the pid, parent pid and state of every process.
func forEachProc(f func(pid, ppid int, state byte)) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, state, ok := stat(e.Name()); ok {
			f(pid, ppid, state)
		}
	}
}

// stat reads the parent and state of process pid from /proc; ok is false once it is gone.
func stat(pid string) (ppid int, state byte, ok bool) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// "pid (comm) state ppid ...": comm may hold anything, so parse after its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	fields := bytes.Fields(b[i+1:])
	if len(fields) < 2 || len(fields[0]) != 1 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(string(fields[1]))
	return ppid, fields[0][0], err == nil
}
