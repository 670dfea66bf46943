// Package testutil holds what the module's tests share and no production
// code uses.
package testutil

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"testing"
)

// Buffer is a bytes.Buffer safe for concurrent use, for a log written by a
// server while a test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TB stands in for a *testing.T where a test has none (an Example) or
// checks what a helper reports: Errorf and Fatalf are recorded (and, with
// Out set, printed there), Fatalf then stops the goroutine with a panic of
// the TB itself, which Run recovers; Cleanup functions run at Done, last
// first. Methods it does not define are the embedded TB's (nil: they panic).
type TB struct {
	testing.TB
	Out      io.Writer
	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

// Helper does nothing.
func (t *TB) Helper() {}

// Cleanup registers f for Done.
func (t *TB) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

// Errorf records a failure.
func (t *TB) Errorf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	t.mu.Lock()
	t.errs = append(t.errs, msg)
	t.mu.Unlock()
	if t.Out != nil {
		fmt.Fprintln(t.Out, msg)
	}
}

// Fatalf records a failure and panics with t.
func (t *TB) Fatalf(format string, args ...any) {
	t.Errorf(format, args...)
	panic(t)
}

// Errors returns the failures recorded so far.
func (t *TB) Errors() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.errs...)
}

// Run calls f, recovering the panic of t's own Fatalf.
func (t *TB) Run(f func()) {
	defer func() {
		if r := recover(); r != nil && r != any(t) {
			panic(r)
		}
	}()
	f()
}

// Done runs the cleanups, last registered first.
func (t *TB) Done() {
	t.mu.Lock()
	cs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}
