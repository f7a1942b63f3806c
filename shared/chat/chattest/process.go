package chattest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/8949market/market/shared/testenv"
)

// Binary builds the chat-server command into the test's temporary directory and returns
// its path.
func Binary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "chat-server")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/8949market/market/chat-server/cmd/chat-server").CombinedOutput()
	if err != nil {
		t.Fatalf("chattest: build chat-server: %v\n%s", err, out)
	}
	return bin
}

// Process is the chat-server binary running as a process of its own, as in production:
// it can be killed (SIGKILL, nothing drained) and started again on the same port.
type Process struct {
	// URL is the server's base (http://127.0.0.1:port), the same across restarts.
	URL string
	// Output is everything the process wrote, across restarts.
	Output *testenv.Output

	t      testing.TB
	bin    string
	env    []string
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartProcess runs bin (see Binary) on a free port with env added to the test's own
// environment (DATABASE_URL, REDIS_URL, JWT_PUBLIC_KEYS, PUSH_AUTH, PUSH_TOKEN at
// least), ready when it returns. It is stopped (SIGTERM) when the test ends, and its last
// output logged if the test failed.
func StartProcess(t testing.TB, bin string, env ...string) *Process {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("chattest: free port: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	p := &Process{
		URL:    "http://127.0.0.1:" + strconv.Itoa(port),
		Output: &testenv.Output{},
		t:      t,
		bin:    bin,
		env:    append(append(os.Environ(), "PORT="+strconv.Itoa(port), "LISTEN_HOST=127.0.0.1"), env...),
	}
	t.Cleanup(func() {
		p.stop(syscall.SIGTERM)
		if t.Failed() {
			lines := p.Output.Lines()
			t.Logf("chattest: chat-server's last output:\n%s", strings.Join(lines[max(0, len(lines)-30):], "\n"))
		}
	})
	p.Start()
	return p
}

// Start starts the process again (after Kill) on the same port and waits until it is
// healthy.
func (p *Process) Start() {
	p.t.Helper()
	cmd := exec.Command(p.bin)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = p.Output, p.Output
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("chattest: start chat-server: %v", err)
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	go func(exited chan struct{}) {
		_ = cmd.Wait()
		close(exited)
	}(p.exited)
	deadline := time.Now().Add(60 * time.Second) // a cold start on a loaded machine
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := health(ctx, p.URL)
		cancel()
		if err == nil {
			return
		}
		select {
		case <-p.exited:
			p.t.Fatalf("chattest: chat-server exited (%v) before it was healthy", cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("chattest: chat-server not healthy within 60s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Pid is the running process's id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Kill kills the process (SIGKILL) as a crash would, and waits until it is gone: nothing
// is drained, no client is told.
func (p *Process) Kill() { p.stop(syscall.SIGKILL) }

func (p *Process) stop(sig syscall.Signal) {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

func health(ctx context.Context, base string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz answered %d", res.StatusCode)
	}
	return nil
}
