package testenv

import (
	"bytes"
	"strings"
	"sync"
)

// Output collects what a process or a logger writes while the test reads it: an
// io.Writer safe for concurrent use.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

// String is everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// Lines is what was written so far, line by line, the last line's newline dropped.
func (o *Output) Lines() []string {
	return strings.Split(strings.TrimRight(o.String(), "\n"), "\n")
}
