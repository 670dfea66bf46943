package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/torqapi/integrations/internal/auth"
)

// fixtureYAML is a YAML fixture file of n integrations, one key a line,
// so that a cut at a line boundary is valid YAML with fewer items.
func fixtureYAML(n int) string {
	var b strings.Builder
	b.WriteString("integrations:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - id: 00000000-0000-4000-8000-%012d\n    name: item_%d\n    display_name: Item %d\n    type_id: webhook\n", i, i, i)
	}
	return b.String()
}

// servedCount returns how many integrations base serves now.
func servedCount(t *testing.T, base string) int {
	t.Helper()
	_, body := getList(t, base+"/public/v1alpha/integrations", auth.DemoToken)
	var l struct{ Integrations []json.RawMessage }
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatalf("list: %v: %s", err, body)
	}
	return len(l.Integrations)
}

// writeInTwoParts writes content to path as a slow script does: the
// first half (cut at a line boundary), then, after pause, the rest.
func writeInTwoParts(t *testing.T, path, content string, pause time.Duration, between func()) {
	t.Helper()
	lines := strings.SplitAfter(content, "\n")
	head := strings.Join(lines[:len(lines)/2], "")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(head); err != nil {
		t.Fatal(err)
	}
	between()
	time.Sleep(pause)
	if _, err := f.WriteString(content[len(head):]); err != nil {
		t.Fatal(err)
	}
}

func waitLog(t *testing.T, log *syncBuffer, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(log.String(), want) < n {
		if time.Now().After(deadline) {
			t.Fatalf("no %d× %q in the log:\n%s", n, want, log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReloadWhileTheFileIsWritten sends SIGHUP while a script is half-way
// through writing a YAML file: the reload serves the whole file, never the
// valid-looking first half (which the reload before served).
func TestReloadWhileTheFileIsWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fixtures.yaml")
	if err := os.WriteFile(path, []byte(fixtureYAML(1)), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	base := start(t, []string{"--addr", "127.0.0.1:0", "--fixtures", path, "--quiet"}, &stdout, &stderr)
	for i, n := range []int{30, 60, 90} {
		writeInTwoParts(t, path, fixtureYAML(n), 30*time.Millisecond, func() {
			if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
		})
		waitLog(t, &stderr, "msg=reloaded", i+1)
		if got := servedCount(t, base); got != n {
			t.Fatalf("after SIGHUP during the write: %d integrations, want all %d", got, n)
		}
	}
}

// TestWatch runs with --watch: an atomic replace and a file written in
// two parts are each reloaded without a signal, the partial file is never
// served, and a bad file keeps the old data.
func TestWatch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fixtures.yaml")
	if err := os.WriteFile(path, []byte(fixtureYAML(1)), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	base := start(t, []string{"--addr", "127.0.0.1:0", "--fixtures", path, "--quiet", "--watch"}, &stdout, &stderr)

	// Atomic replace: write elsewhere in the directory, rename into place.
	tmp := filepath.Join(dir, ".fixtures.yaml.tmp")
	if err := os.WriteFile(tmp, []byte(fixtureYAML(20)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	waitLog(t, &stderr, "msg=reloaded", 1)
	if got := servedCount(t, base); got != 20 {
		t.Fatalf("after a rename into place: %d integrations, want 20", got)
	}

	// Written in place, in two parts: sample what is served meanwhile.
	var sawPartial atomic.Bool
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if n := servedCount(t, base); n != 20 && n != 40 {
				sawPartial.Store(true)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	writeInTwoParts(t, path, fixtureYAML(40), 60*time.Millisecond, func() {})
	waitLog(t, &stderr, "msg=reloaded", 2)
	close(stop)
	<-sampled
	if sawPartial.Load() {
		t.Error("a half-written file was served")
	}
	if got := servedCount(t, base); got != 40 {
		t.Fatalf("after an in-place write: %d integrations, want 40", got)
	}

	if err := os.WriteFile(path, []byte("integrations:\n  - id: nope\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitLog(t, &stderr, "reload failed", 1)
	if got := servedCount(t, base); got != 40 {
		t.Errorf("after a bad file: %d integrations, want the old 40", got)
	}
}
