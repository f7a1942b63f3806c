// Package instance starts private PostgreSQL and Redis servers for one test. Most tests
// share the services on 127.0.0.1:5432 and 6379 (see testenv); a test that needs more
// connections than the shared server allows, or that stops, kills and restarts a server
// (the fault suite), gets servers of its own here, so it cannot disturb any other test.
//
//	pg := instance.Postgres(t, instance.MaxConnections(300))
//	dsn := pg.Migrated(t, "market")
//	pg.Kill()  // crash
//	pg.Start() // recover on the same port and data
//
//	rs := instance.Redis(t)
//	rs.Stop()
//	rs.Start() // empty: nothing is persisted
//
// Servers run on free loopback ports in a directory of their own, are stopped and removed
// when the test ends, and are killed by the kernel if the test binary dies first (Linux).
// A missing binary fails the test with the package to install: these tests are never
// skipped.
package instance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

const (
	// readyWithin bounds how long a start may take. Generous: on a busy two-core machine
	// running tests in parallel, initdb and crash recovery take seconds, not milliseconds.
	readyWithin = 60 * time.Second
	// stopWithin is how long a graceful stop may take before the server is killed.
	stopWithin = 10 * time.Second
	// pollEvery is how often readiness and exits are checked.
	pollEvery = 10 * time.Millisecond
)

// errPortInUse says the server could not bind its port: another process took it.
var errPortInUse = errors.New("port already in use")

// freePort asks the kernel for a free loopback port. The port is free when freePort
// returns, not necessarily when the server binds it a moment later: another process may
// take it in between. The window is short, so a first start that fails with
// errPortInUse is retried once on a new port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	return port, nil
}

// onFreePort calls start with a free port, and once more with another if the first was
// taken meanwhile (see freePort).
func onFreePort(start func(port int) error) error {
	var err error
	for range 2 {
		var port int
		if port, err = freePort(); err != nil {
			return err
		}
		if err = start(port); !errors.Is(err, errPortInUse) {
			return err
		}
	}
	return err
}

// process is one running server and the log its output goes to.
type process struct {
	cmd     *exec.Cmd
	log     string
	logFrom int64         // where this run's output starts in the log
	exited  chan struct{} // closed once the process has exited and been reaped
}

// launch starts cmd with its output appended to logPath.
func launch(cmd *exec.Cmd, logPath string) (*process, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open server log: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open server log: %w", err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p := &process{cmd: cmd, log: logPath, logFrom: st.Size(), exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// waitReady polls ready until it succeeds, the process exits or readyWithin passes. A
// failure carries the tail of the server's log, and errPortInUse when that is why.
func (p *process) waitReady(ctx context.Context, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, readyWithin)
	defer cancel()
	// A probe may hang on whatever holds the port; the server's exit ends it at once.
	probeCtx, stopProbe := context.WithCancel(ctx)
	defer stopProbe()
	go func() {
		select {
		case <-p.exited:
			stopProbe()
		case <-probeCtx.Done():
		}
	}()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		err := ready(probeCtx)
		if err == nil {
			return nil
		}
		select {
		case <-p.exited:
			out := p.output()
			if strings.Contains(out, "Address already in use") {
				return fmt.Errorf("%w; log:\n%s", errPortInUse, tail(out))
			}
			return fmt.Errorf("%s exited (%v) before it was ready; log:\n%s", p.cmd.Path, p.cmd.ProcessState, tail(out))
		case <-ctx.Done():
			p.kill()
			return fmt.Errorf("%s not ready within %v (%w); log:\n%s", p.cmd.Path, readyWithin, err, tail(p.output()))
		case <-tick.C:
		}
	}
}

// stop sends sig to the server alone (its own shutdown stops its children) and waits;
// if it has not exited within stopWithin, it kills it.
func (p *process) stop(sig syscall.Signal) {
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(stopWithin):
		p.kill()
	}
}

// kill kills the server and every process it started at once (SIGKILL), as when its
// machine dies, and waits until none is left: a PostgreSQL backend that outlived its
// postmaster would keep the shared memory attached, and the next start would refuse the
// data directory. The server is frozen first so that it starts no process meanwhile.
func (p *process) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGSTOP)
	victims := append(descendants(p.cmd.Process.Pid), p.cmd.Process.Pid)
	for _, pid := range victims {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	<-p.exited
	deadline := time.Now().Add(stopWithin)
	for _, pid := range victims {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(pollEvery)
		}
	}
}

// output returns what the server wrote to its log during this run.
func (p *process) output() string {
	f, err := os.Open(p.log)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", p.log, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.NewSectionReader(f, p.logFrom, 1<<30))
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", p.log, err)
	}
	return string(b)
}

// tail returns the last lines of a log, enough to see why a server did not start.
func tail(log string) string {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}
