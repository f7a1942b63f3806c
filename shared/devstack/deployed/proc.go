package deployed

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one child process of the shape, in a process group of its own so that a stop
// reaches whatever it started (the emulator's Java, say), with its output in a log file.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
	// javaExit: a JVM answers SIGTERM by exiting with 143 (128 + 15), which is its clean
	// stop, not a failure.
	javaExit bool
}

// start runs bin with args and exactly env (nothing of the caller's environment leaks into
// a service: it sees what Terraform would give it), logging to dir/<name>.log.
func start(dir, name, bin string, args, env []string) (*proc, error) {
	path := filepath.Join(dir, name+".log")
	out, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("%s: log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("%s: start %s: %w", name, bin, err)
	}
	p := &proc{name: name, cmd: cmd, log: path, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = out.Close()
		close(p.done)
	}()
	return p, nil
}

// exited says whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, as Cloud Run does, and SIGKILL after timeout.
// It reports how the process ended: a service that does not exit cleanly on SIGTERM is a
// finding.
func (p *proc) stop(timeout time.Duration) error {
	if p.exited() {
		return p.exitErr()
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
		return p.exitErr()
	case <-time.After(timeout):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("%s did not stop within %s of SIGTERM", p.name, timeout)
	}
}

func (p *proc) exitErr() error {
	if p.err == nil {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) && (ee.Sys().(syscall.WaitStatus).Signaled() || p.javaExit && ee.ExitCode() == 143) {
		return nil // ended by our signal
	}
	return fmt.Errorf("%s: %w (log %s)", p.name, p.err, p.log)
}

// tail is the end of the process's log, for error messages.
func (p *proc) tail() string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}

// waitListening waits until addr accepts connections, as Cloud Run's TCP startup probe
// does, failing early when the process exits.
func (p *proc) waitListening(addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			_ = c.Close()
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s exited before listening on %s: %v\n%s", p.name, addr, p.err, p.tail()) //nolint:errorlint // p.err may be nil (a clean exit); the output tail is the cause
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not listening on %s after %s\n%s", p.name, addr, within, p.tail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rss is the resident memory of the process group, in bytes, from /proc.
func (p *proc) rss() int64 {
	pgid := p.cmd.Process.Pid
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var total int64
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if g, err := syscall.Getpgid(pid); err != nil || g != pgid {
			continue
		}
		status, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		for line := range strings.SplitSeq(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				total += kb << 10
			}
		}
	}
	return total
}

// Ports are handed out below Linux's ephemeral range (32768-60999 by default): a port
// taken from :0 and released until the service binds it could meanwhile become the local
// end of some outgoing connection (sixty processes dial PostgreSQL and Redis); below the
// range only another listener can take it, and this allocator never hands one out twice.
var ports = struct {
	sync.Mutex
	next int
}{next: 20000 + rand.IntN(10000)}

// freeAddr is a loopback address with a port free now and not handed out before.
func freeAddr() (string, error) {
	ports.Lock()
	defer ports.Unlock()
	for tries := 0; tries < 2000; tries++ {
		port := ports.next
		ports.next++
		if ports.next >= 32768 {
			ports.next = 20000
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue // someone else's
		}
		_ = ln.Close()
		return ln.Addr().String(), nil
	}
	return "", errors.New("no free port below 32768")
}
