package main

import (
	"io"
	"runtime"
	"sync"
)

// maxPendingLog bounds what batchWriter holds for a writer that is slow or
// stuck (a full pipe): past it, writers wait, as they would on the
// descriptor itself.
const maxPendingLog = 1 << 20

// batchWriter is the request log's destination: the slog handlers write
// whole lines to it, and one goroutine writes them to out, everything
// that has accumulated in one Write. A line written while that goroutine
// is idle goes out at once; lines written while it is busy writing go out
// together with the next write. So an idle stub logs each line as it
// happens, and a busy one makes one system call for many lines instead of
// one per request; there is no timer and no line waits for one. Each
// Write is kept whole and in order. Close writes what is left and stops
// the goroutine; Writes after Close go straight to out.
type batchWriter struct {
	out io.Writer

	mu      sync.Mutex
	drained sync.Cond // signalled whenever pending was taken
	pending []byte
	closed  bool

	wake chan struct{} // capacity 1: "pending is not empty"
	done chan struct{} // closed when the goroutine has written everything
}

// newBatchWriter starts the goroutine writing to out.
func newBatchWriter(out io.Writer) *batchWriter {
	w := &batchWriter{out: out, wake: make(chan struct{}, 1), done: make(chan struct{})}
	w.drained.L = &w.mu
	go w.loop()
	return w
}

// Write queues p; it blocks only while more than maxPendingLog is queued.
// It never fails: a log line that cannot be written is not the caller's
// error (out's errors are dropped, as a failing stderr's are).
func (w *batchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	for len(w.pending) >= maxPendingLog && !w.closed {
		w.drained.Wait()
	}
	if w.closed {
		w.mu.Unlock()
		<-w.done // after the last batch, in order
		_, _ = w.out.Write(p)
		return len(p), nil
	}
	w.pending = append(w.pending, p...)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default: // already woken: this line goes with the next write
	}
	return len(p), nil
}

// loop writes whatever is pending each time it is woken, until Close.
func (w *batchWriter) loop() {
	defer close(w.done)
	var spare []byte
	for range w.wake {
		// Woken by a Write, this goroutine would run next, before the
		// other goroutines ready to run (requests being served, each
		// about to log a line) and so write lines one by one. Yielding
		// once lets them run first: when the stub is busy the batch is
		// all they logged meanwhile; when it is idle there is no one to
		// yield to and the line goes out at once.
		runtime.Gosched()
		w.mu.Lock()
		batch := w.pending
		w.pending = spare[:0]
		closed := w.closed
		w.drained.Broadcast()
		w.mu.Unlock()
		if len(batch) > 0 {
			_, _ = w.out.Write(batch)
		}
		if closed {
			return
		}
		// The batch's buffer is reused, unless a burst made it large.
		if cap(batch) <= maxPendingLog {
			spare = batch[:0]
		} else {
			spare = nil
		}
	}
}

// Close writes what is pending and waits for it; later Writes are direct.
func (w *batchWriter) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.done
		return nil
	}
	w.closed = true
	w.drained.Broadcast()
	w.mu.Unlock()
	// The loop may be mid-write; this wake (or the one pending) makes it
	// take the rest and return.
	select {
	case w.wake <- struct{}{}:
	default:
	}
	<-w.done
	return nil
}
