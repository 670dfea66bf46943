package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// gatedWriter records every Write it gets; while gate is held, Writes
// block, as a slow or full stderr would.
type gatedWriter struct {
	mu     sync.Mutex
	writes []string
	gate   sync.Mutex
	in     chan struct{} // gets a value when a Write has started
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	if g.in != nil {
		g.in <- struct{}{}
	}
	g.gate.Lock()
	defer g.gate.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.writes = append(g.writes, string(p))
	return len(p), nil
}

func (g *gatedWriter) all() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.writes...)
}

// TestBatchWriterBatchesWhileBusy: lines written while the destination is
// busy with a write go out together in the next write, not one write
// each, whole and in order.
func TestBatchWriterBatchesWhileBusy(t *testing.T) {
	g := &gatedWriter{in: make(chan struct{}, 100)}
	w := newBatchWriter(g)
	g.gate.Lock()
	fmt.Fprintln(w, "line 0")
	<-g.in // the goroutine is now inside the first Write, held
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(w, "line %d\n", i)
	}
	g.gate.Unlock()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := g.all()
	want := []string{"line 0\n", "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\nline 9\n"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("writes:\n%q\nwant\n%q", got, want)
	}
}

// TestBatchWriterKeepsEveryLineWhole writes from many goroutines at once:
// after Close, out holds every line exactly once, none torn, each
// goroutine's lines in its order.
func TestBatchWriterKeepsEveryLineWhole(t *testing.T) {
	var out syncBuffer
	w := newBatchWriter(&out)
	const writers, lines = 8, 500
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(w, "writer=%d line=%d %s\n", g, i, strings.Repeat("x", i%50))
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	next := make([]int, writers)
	n := 0
	for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		var g, i int
		f := strings.Fields(l)
		if len(f) < 2 {
			t.Fatalf("torn line %q", l)
		}
		if _, err := fmt.Sscanf(f[0]+" "+f[1], "writer=%d line=%d", &g, &i); err != nil || g < 0 || g >= writers {
			t.Fatalf("torn line %q: %v", l, err)
		}
		pad := ""
		if len(f) == 3 {
			pad = f[2]
		}
		if i != next[g] || len(pad) != i%50 {
			t.Fatalf("writer %d: got line %q, want line %d", g, l, next[g])
		}
		next[g]++
		n++
	}
	if n != writers*lines {
		t.Fatalf("%d lines, want %d", n, writers*lines)
	}
}

// TestBatchWriterBoundsWhatItHolds: with the destination stuck, Write
// blocks once maxPendingLog is queued instead of growing without bound,
// and nothing is lost when it moves again.
func TestBatchWriterBoundsWhatItHolds(t *testing.T) {
	g := &gatedWriter{in: make(chan struct{}, 1000)}
	w := newBatchWriter(g)
	g.gate.Lock()
	w.Write([]byte("first\n"))
	<-g.in
	line := bytes.Repeat([]byte("y"), 64<<10)
	line[len(line)-1] = '\n'
	wrote := make(chan int, 100)
	go func() {
		for i := range 40 { // 2.5 MiB: more than maxPendingLog
			w.Write(line)
			wrote <- i
		}
		close(wrote)
	}()
	// The writer fills maxPendingLog and then waits for the destination.
	n := 0
	for n < maxPendingLog/len(line) {
		<-wrote
		n++
	}
	w.mu.Lock()
	pending := len(w.pending)
	w.mu.Unlock()
	if pending > maxPendingLog+len(line) {
		t.Fatalf("%d bytes pending, want at most %d", pending, maxPendingLog+len(line))
	}
	g.gate.Unlock()
	for range wrote {
	}
	w.Close()
	total := 0
	for _, s := range g.all() {
		total += len(s)
	}
	if want := len("first\n") + 40*len(line); total != want {
		t.Fatalf("%d bytes written, want %d", total, want)
	}
}

// TestBatchWriterAfterClose: a Write after Close goes straight out.
func TestBatchWriterAfterClose(t *testing.T) {
	var out syncBuffer
	w := newBatchWriter(&out)
	fmt.Fprintln(w, "before")
	w.Close()
	fmt.Fprintln(w, "after")
	w.Close() // twice is fine
	if got := out.String(); got != "before\nafter\n" {
		t.Fatalf("out = %q", got)
	}
}
