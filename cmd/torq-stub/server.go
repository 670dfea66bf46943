package main

import (
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

// limits are the bounds every connection is held to, so that a client that
// makes no progress (headers, a body it declared, reading its answers)
// cannot hold a connection, its goroutine and its kernel buffers forever.
// run uses defaultLimits; tests build servers with small ones.
type limits struct {
	// header bounds the request line and headers (http.Server's
	// ReadHeaderTimeout), from the request's first byte.
	header time.Duration
	// maxHeaderBytes is the real limit on the request line and headers:
	// net/http allows MaxHeaderBytes plus 4 KiB of bufio slack, which
	// newServer takes off.
	maxHeaderBytes int
	// idle bounds a kept-alive connection's silence between requests.
	idle time.Duration
	// body bounds a request's body, from the end of its headers. It holds
	// also when the handler never reads the body: net/http reads (and
	// discards) up to 256 KiB of it after the handler, to keep the
	// connection, and that read must not wait forever. 0 => unbounded.
	body time.Duration
	// writeStall is the time within which an answer's write must move
	// writeChunk (or finish): a client that reads
	// nothing for this long (a pipeliner that never reads) is cut off.
	// Unlike http.Server's WriteTimeout it bounds progress, not the
	// answer: --latency and a large list to a slow reader are unaffected
	// as long as 64 KiB move every writeStall. 0 => unbounded.
	writeStall time.Duration
	// grace is how long shutdown waits for requests in flight before it
	// closes the connections still open.
	grace time.Duration
}

// netHTTPHeaderSlack is what net/http reads past MaxHeaderBytes before it
// answers 431 (its initialReadLimitSize adds 4096 "bufio slop").
const netHTTPHeaderSlack = 4 << 10

// maxHeaderBytes is the stub's limit on a request's line and headers.
const maxHeaderBytes = 64 << 10

// writeChunk is the unit of progress writeStall bounds: a write that has
// not moved this much by its deadline fails. The write is not cut into
// pieces (a system call each): it is one write whose deadline moves on
// as long as the client takes writeChunk per writeStall.
const writeChunk = 64 << 10

// defaultLimits are the bounds of the binary. The write bound is per 64
// KiB, so it needs no allowance for --latency (nothing is written while
// the stub waits) nor for the size of the largest list; 10 s per 64 KiB is
// 6.4 KiB/s, far below any client that reads at all. grace lets a request
// held by the maximum latency finish.
func defaultLimits(latencyMax time.Duration) limits {
	return limits{
		header:         5 * time.Second,
		maxHeaderBytes: maxHeaderBytes,
		idle:           2 * time.Minute,
		body:           10 * time.Second,
		writeStall:     10 * time.Second,
		grace:          10*time.Second + latencyMax,
	}
}

// newServer returns the http.Server that serves h within l; serve it on
// l.listener(ln). There is no WriteTimeout (the write bound is writeStall,
// in the listener) and no ReadTimeout (which would have to cover
// --latency, since net/http's background read cancels a request whose
// read deadline passes): the body bound is set per request, and only on
// requests that have a body.
func newServer(h http.Handler, l limits, errorLog *log.Logger) *http.Server {
	if l.body > 0 {
		h = bodyDeadline(h, l.body)
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.header,
		IdleTimeout:       l.idle,
		MaxHeaderBytes:    l.maxHeaderBytes - netHTTPHeaderSlack,
		ErrorLog:          errorLog,
	}
}

// bodyDeadline holds a request that has a body (a Content-Length above 0,
// or chunked) to d: its body must have arrived d after its headers.
// Bodiless requests, nearly all of them, pay nothing.
//
// A body the handler leaves unread is read by net/http before the answer
// goes out (up to 256 KiB, to keep the connection); under the deadline
// that read fails in time and net/http closes the connection after the
// answer. A body the handler reads and that fails (the deadline, a client
// gone) would leave a connection net/http keeps, waiting its idle timeout
// for bytes that are not coming: watchedBody asks for Connection: close.
func bodyDeadline(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 && http.NewResponseController(w).SetReadDeadline(time.Now().Add(d)) == nil {
			r.Body = &watchedBody{ReadCloser: r.Body, header: w.Header()}
		}
		h.ServeHTTP(w, r)
	})
}

// watchedBody is a request body whose failure asks for the connection to
// close after the answer.
type watchedBody struct {
	io.ReadCloser
	header http.Header
}

// Read reads the body; an error other than EOF sets Connection: close,
// which takes effect when the answer's header is not written yet.
func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.header.Set("Connection", "close")
	}
	return n, err
}

// listener wraps ln so that every accepted connection's writes must make
// progress within l.writeStall; with no write bound it returns ln.
func (l limits) listener(ln net.Listener) net.Listener {
	if l.writeStall <= 0 {
		return ln
	}
	return &stallListener{Listener: ln, stall: l.writeStall}
}

// stallListener accepts stallConns.
type stallListener struct {
	net.Listener
	stall time.Duration
}

// Accept returns the next connection, its writes bounded.
func (sl *stallListener) Accept() (net.Conn, error) {
	c, err := sl.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &stallConn{Conn: c, stall: sl.stall}, nil
}

// stallConn is a connection whose writes must make progress: writeChunk
// bytes or more within each stall, or the write fails and net/http closes
// the connection.
//
// Moving a deadline is cheap but not free (it re-arms a runtime timer and
// may wake the network poller), and a small answer is two writes: so the
// deadline is moved only once it is less than stall-stall/10 away. Each
// write then has between 0.9 and 1.0 stall to make its progress, and a
// connection sets its deadline about once per stall/10 however many
// answers it writes.
type stallConn struct {
	net.Conn
	stall    time.Duration
	deadline atomic.Int64 // the write deadline set, Unix nanoseconds; 0: none
}

// Write writes p in one write whose deadline is moved on each time it
// passes after writeChunk or more went out, so that a large answer to a
// slow but steady reader completes, in as few system calls as the kernel
// takes, while a reader that takes less than writeChunk per stall (one
// that reads nothing, above all) is cut off.
func (c *stallConn) Write(p []byte) (int, error) {
	n := 0
	for {
		if err := c.extend(); err != nil {
			return n, err
		}
		m, err := c.Conn.Write(p[n:])
		n += m
		if err == nil || m < writeChunk || !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		// Progress within the bound: the deadline passed while the client
		// was reading; a new one for the rest.
		c.deadline.Store(0)
	}
}

// SetWriteDeadline sets a write deadline other than the bound's. The zero
// time, which net/http sets after every answer to clear a WriteTimeout
// the stub does not use, leaves the bound's deadline in place: it only
// ever holds writes, each of which extends it first, so an expired one on
// an idle connection costs nothing, and not clearing it saves moving it
// twice per request.
func (c *stallConn) SetWriteDeadline(t time.Time) error {
	if t.IsZero() {
		return nil
	}
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	c.deadline.Store(t.UnixNano())
	return nil
}

// SetDeadline sets the read deadline and, as SetWriteDeadline does, the
// write deadline.
func (c *stallConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// extend moves the write deadline to stall from now when less than
// 0.9 stall is left of it.
func (c *stallConn) extend() error {
	now := time.Now()
	if time.Duration(c.deadline.Load()-now.UnixNano()) >= c.stall-c.stall/10 {
		return nil
	}
	d := now.Add(c.stall)
	if err := c.Conn.SetWriteDeadline(d); err != nil {
		return err
	}
	c.deadline.Store(d.UnixNano())
	return nil
}

// CloseWrite half-closes the connection when the one underneath can
// (a *net.TCPConn can): net/http uses it to let a client read an error
// answer before the connection closes.
func (c *stallConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// shutdown stops srv gracefully: no new connections, requests in flight
// finish. Connections still open after the grace period (a client that
// does not read its answer and has not yet hit the write bound) are
// closed hard; that is still a clean stop, so shutdown returns nil, and
// the program exits 0 as it does after any stop it was asked for.
func shutdown(srv *http.Server, grace time.Duration, logger *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		logger.Warn("grace period over: closing the connections still open", "grace", grace.String())
		return srv.Close()
	}
	return err
}
