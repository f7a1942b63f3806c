package instance

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RedisServer is a private Redis server on 127.0.0.1 that persists nothing, so a restart
// starts empty. Its methods report
// failures to the test that started it, so call them from that test's goroutine.
type RedisServer struct {
	t    testing.TB
	bin  string
	dir  string // working directory and log
	port int
	proc *process // nil while stopped
}

// Redis starts a Redis server on a free loopback port and waits until it answers PING.
// When the test ends the server is stopped and its directory removed.
func Redis(t testing.TB) *RedisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("instance: redis-server not found: install the redis-server package (apt-get install redis-server): %v", err)
	}
	began := time.Now()
	dir, err := os.MkdirTemp("", "market-redis-")
	if err != nil {
		t.Fatalf("instance: create redis directory: %v", err)
	}
	r := &RedisServer{t: t, bin: bin, dir: dir}
	t.Cleanup(func() {
		r.Stop()
		if err := os.RemoveAll(r.dir); err != nil {
			t.Logf("instance: remove %s: %v", r.dir, err)
		}
	})
	if err := onFreePort(func(port int) error { r.port = port; return r.start() }); err != nil {
		t.Fatalf("instance: %v", err)
	}
	t.Logf("instance: redis on 127.0.0.1:%d ready in %v", r.port, time.Since(began).Round(time.Millisecond))
	return r
}

// URL returns the server's URL (database 0), as REDIS_URL takes it.
func (r *RedisServer) URL() string {
	return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/0"
}

// Stop shuts the server down (SIGTERM; nothing is saved). Stopping a stopped server does
// nothing.
func (r *RedisServer) Stop() {
	if r.proc == nil {
		return
	}
	r.proc.stop(syscall.SIGTERM)
	r.proc = nil
}

// Kill kills the server (SIGKILL), as a crash would. Killing a stopped server does
// nothing.
func (r *RedisServer) Kill() {
	if r.proc == nil {
		return
	}
	r.proc.kill()
	r.proc = nil
}

// Start starts the stopped or killed server again on the same port, empty, and waits
// until it answers PING.
func (r *RedisServer) Start() {
	r.t.Helper()
	if r.proc != nil {
		r.t.Fatalf("instance: redis on port %d is already running", r.port)
	}
	if err := r.start(); err != nil {
		r.t.Fatalf("instance: %v", err)
	}
}

func (r *RedisServer) start() error {
	cmd := exec.Command(r.bin,
		"--port", strconv.Itoa(r.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", r.dir,
		"--daemonize", "no",
	)
	cmd.Dir = r.dir
	cmd.SysProcAttr = procAttr(nil, syscall.SIGKILL)
	proc, err := launch(cmd, filepath.Join(r.dir, "redis.log"))
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(r.port)
	pid := proc.cmd.Process.Pid
	if err := proc.waitReady(r.t.Context(), func(ctx context.Context) error {
		return redisReady(ctx, addr, pid)
	}); err != nil {
		return fmt.Errorf("redis on port %d: %w", r.port, err)
	}
	r.proc = proc
	return nil
}

// redisReady reports whether the Redis of process pid answers PING on addr. It checks
// the pid because a server that lost the race for its port (see freePort) may hear
// another server answer there until it exits. It speaks the protocol itself: a client
// library retries and waits by its own clock, not the caller's.
func redisReady(ctx context.Context, addr string, pid int) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	context.AfterFunc(ctx, func() { _ = conn.Close() }) // ends a read that waits
	if _, err := io.WriteString(conn, "PING\r\nINFO server\r\n"); err != nil {
		return err
	}
	rd := bufio.NewReader(conn)
	pong, err := rd.ReadString('\n')
	if err != nil {
		return err
	}
	if pong != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(pong))
	}
	head, err := rd.ReadString('\n') // $<length of the INFO text>
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(head), "$"))
	if err != nil {
		return fmt.Errorf("INFO answered %q", strings.TrimSpace(head))
	}
	info := make([]byte, n)
	if _, err := io.ReadFull(rd, info); err != nil {
		return err
	}
	if !strings.Contains(string(info), "\nprocess_id:"+strconv.Itoa(pid)+"\r\n") {
		return fmt.Errorf("another server answers on %s", addr)
	}
	return nil
}
