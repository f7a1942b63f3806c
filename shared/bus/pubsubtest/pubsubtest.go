// Package pubsubtest gives a test a Pub/Sub to talk to: the Google Pub/Sub emulator
// (gcloud beta emulators pubsub) when it is installed, else pstest in-process.
package pubsubtest

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/pstest"
)

// Emulator starts a Pub/Sub for the test and returns its host:port and what it is
// ("emulator" or "pstest"). It is stopped when the test ends.
func Emulator(t testing.TB) (host, kind string) {
	t.Helper()
	if _, err := exec.LookPath("gcloud"); err != nil || os.Getenv("PUBSUB_USE_PSTEST") != "" {
		srv := pstest.NewServer()
		t.Cleanup(func() { _ = srv.Close() })
		return srv.Addr, "pstest"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host = ln.Addr().String()
	_ = ln.Close()
	cmd := exec.Command("gcloud", "beta", "emulators", "pubsub", "start",
		"--host-port="+host, "--project=market-8949-test", "--quiet")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // gcloud starts a JVM child: stop the group
	if testing.Verbose() {
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pubsub emulator: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", host, 200*time.Millisecond); err == nil {
			_ = c.Close()
			return host, "emulator"
		}
		if time.Now().After(deadline) {
			t.Fatalf("pubsub emulator not listening on %s after 60s (pid %s)", host, strconv.Itoa(cmd.Process.Pid))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
