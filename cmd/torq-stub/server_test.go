package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/auth"
	"github.com/torqapi/integrations/internal/fixtures"
	"github.com/torqapi/integrations/internal/stub"
)

// testServer serves a stub built from cfg on a loopback listener within l,
// as run does, and records when each connection closes.
type testServer struct {
	srv    *http.Server
	addr   string
	mu     sync.Mutex
	closed int
	done   chan error
}

func newTestServer(t *testing.T, cfg stub.Config, l limits) *testServer {
	t.Helper()
	s, err := stub.NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{srv: newServer(s, l, nil), addr: ln.Addr().String(), done: make(chan error, 1)}
	ts.srv.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed || st == http.StateHijacked {
			ts.mu.Lock()
			ts.closed++
			ts.mu.Unlock()
		}
	}
	go func() { ts.done <- ts.srv.Serve(l.listener(ln)) }()
	t.Cleanup(func() {
		_ = ts.srv.Close()
		<-ts.done
	})
	return ts
}

func (ts *testServer) closedConns() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.closed
}

// waitClosed waits until n connections have closed on the server's side.
func (ts *testServer) waitClosed(t *testing.T, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for ts.closedConns() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d connections closed by the server after %v", ts.closedConns(), n, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testLimits are small bounds that keep these tests fast.
func testLimits() limits {
	l := defaultLimits(0)
	l.body = 200 * time.Millisecond
	l.writeStall = 200 * time.Millisecond
	l.grace = 5 * time.Second
	return l
}

const listRequest = "GET /public/v1alpha/integrations HTTP/1.1\r\nHost: stub\r\nAuthorization: Bearer " + auth.DemoToken + "\r\n"

// TestBodylessRequestsAreCutOff declares a body on every route and never
// sends it: each connection gets its answer with Connection: close and is
// closed once the body bound has passed (before the bound, net/http held
// them until the client left). A body that does arrive in time is served
// on a connection that stays open. (The token endpoint sets its own 10 s
// body bound; internal/stub tests it.)
func TestBodylessRequestsAreCutOff(t *testing.T) {
	ts := newTestServer(t, stub.Config{}, testLimits())
	requests := []string{
		listRequest + "Content-Length: 60000\r\n\r\n",
		"GET /healthz HTTP/1.1\r\nHost: stub\r\nContent-Length: 60000\r\n\r\n",
		listRequest + "Transfer-Encoding: chunked\r\n\r\n10\r\n0123",
	}
	var wg sync.WaitGroup
	for _, req := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, req); err != nil {
				t.Error(err)
				return
			}
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Errorf("%.30q: no answer: %v", req, err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if !resp.Close {
				t.Errorf("%.30q: %s without Connection: close", req, resp.Status)
			}
		}()
	}
	wg.Wait()
	ts.waitClosed(t, len(requests), 2*time.Second)

	// A body sent in time on a kept-alive connection: two answers.
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	for i := range 2 {
		if _, err := io.WriteString(conn, listRequest+"Content-Length: 5\r\n\r\nhello"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.Close {
			t.Errorf("request %d with its body: %s with Connection: close", i, resp.Status)
		}
	}
}

// bigList returns n valid integrations (about 400 bytes each).
func bigList(n int) []generated.Integration {
	base := fixtures.Default()
	out := make([]generated.Integration, n)
	for i := range out {
		out[i] = base[i%len(base)]
		out[i].ID = uuid.New()
	}
	return out
}

// TestNonReadingClientsAreCutOff pipelines list requests and never reads
// the answers: once nothing moves for the write bound, the server closes
// the connections (before the bound it held them, and their kernel
// buffers, forever).
func TestNonReadingClientsAreCutOff(t *testing.T) {
	ts := newTestServer(t, stub.Config{Integrations: bigList(200)}, testLimits())
	const clients = 5
	for range clients {
		conn, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.(*net.TCPConn).SetReadBuffer(4 << 10)
		go func() {
			req := strings.Repeat(listRequest+"\r\n", 50)
			for {
				_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
				if _, err := io.WriteString(conn, req); err != nil {
					return
				}
			}
		}()
	}
	ts.waitClosed(t, clients, 5*time.Second)
}

// TestSlowReaderGetsALargeList reads a list of about 900 KB in pieces of
// 32 KiB every 50 ms through a small receive buffer, far slower than the
// stub writes it but steadily: the write bound (200
// ms per 64 KiB here) is about progress, so the whole list arrives. The
// stub's --latency, longer than every bound, is unaffected too.
func TestSlowReaderGetsALargeList(t *testing.T) {
	l := testLimits()
	ts := newTestServer(t, stub.Config{Integrations: bigList(2500), LatencyMin: 500 * time.Millisecond}, l)
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(32 << 10)
	if _, err := io.WriteString(conn, listRequest+"\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var n int64
	for {
		m, err := io.CopyN(io.Discard, resp.Body, 32<<10)
		n += m
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("after %d bytes: %v", n, err)
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resp.StatusCode != http.StatusOK || n != resp.ContentLength || n < 800<<10 {
		t.Errorf("%s, %d of %d bytes", resp.Status, n, resp.ContentLength)
	}
}

// TestShutdownWithNonReadingClient stops the server while a client that
// never reads is connected. Within the grace period the write bound cuts
// it off and shutdown returns early; with a grace period shorter than the
// write bound, shutdown closes it hard when the grace ends. Either way
// shutdown is a clean stop (nil: exit 0), where it used to wait out the
// grace and fail.
func TestShutdownWithNonReadingClient(t *testing.T) {
	tests := []struct {
		name         string
		grace, stall time.Duration
		within       time.Duration
	}{
		{"write bound cuts it off", 5 * time.Second, 200 * time.Millisecond, 2 * time.Second},
		{"grace ends first", 300 * time.Millisecond, time.Minute, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := testLimits()
			l.grace, l.writeStall = tt.grace, tt.stall
			ts := newTestServer(t, stub.Config{Integrations: bigList(200)}, l)
			conn, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.(*net.TCPConn).SetReadBuffer(4 << 10)
			req := strings.Repeat(listRequest+"\r\n", 50)
			// Pipeline until the server stops taking requests: it is then
			// blocked writing an answer nobody reads.
			for {
				_ = conn.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
				if _, err := io.WriteString(conn, req); err != nil {
					break
				}
			}
			start := time.Now()
			var logs strings.Builder
			err = shutdown(ts.srv, l.grace, slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Errorf("shutdown: %v", err)
			}
			if d := time.Since(start); d > tt.within {
				t.Errorf("shutdown took %v, want at most %v", d, tt.within)
			}
		})
	}
}

// TestHeaderLimit checks that the limit the README states, 64 KiB of
// request line and headers, is the real one (net/http allows 4 KiB past
// MaxHeaderBytes, which newServer takes off).
func TestHeaderLimit(t *testing.T) {
	ts := newTestServer(t, stub.Config{}, testLimits())
	for _, tt := range []struct {
		size   int // request line and headers, final CRLF included
		status int
	}{
		{60 << 10, http.StatusOK},
		{63 << 10, http.StatusOK},
		{64<<10 + 1, http.StatusRequestHeaderFieldsTooLarge},
		{67 << 10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		t.Run(fmt.Sprint(tt.size), func(t *testing.T) {
			head := "GET /healthz HTTP/1.1\r\nHost: stub\r\nX-Pad: "
			pad := tt.size - len(head) - len("\r\n\r\n")
			req := head + strings.Repeat("x", pad) + "\r\n\r\n"
			conn, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(conn, req); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("%d bytes of headers: %s, want %d", len(req), resp.Status, tt.status)
			}
		})
	}
}

// deadlineConn counts SetWriteDeadline calls. Writes succeed, except that
// each of timeouts, in turn, makes one write take that many bytes and then
// fail with the deadline.
type deadlineConn struct {
	net.Conn
	sets     int
	writes   int
	timeouts []int
}

func (c *deadlineConn) SetWriteDeadline(time.Time) error { c.sets++; return nil }
func (c *deadlineConn) Write(p []byte) (int, error) {
	c.writes++
	if len(c.timeouts) > 0 {
		n := min(c.timeouts[0], len(p))
		c.timeouts = c.timeouts[1:]
		return n, os.ErrDeadlineExceeded
	}
	return len(p), nil
}

// TestStallConnBoundsProgress: a write whose deadline passes after
// writeChunk or more went out goes on with a new deadline until done; one
// that moved less than writeChunk by its deadline fails with what it wrote.
func TestStallConnBoundsProgress(t *testing.T) {
	inner := &deadlineConn{timeouts: []int{writeChunk, 3 * writeChunk}}
	c := &stallConn{Conn: inner, stall: time.Hour}
	p := make([]byte, 10*writeChunk)
	n, err := c.Write(p)
	if err != nil || n != len(p) {
		t.Fatalf("steady reader: wrote %d, %v; want %d, nil", n, err, len(p))
	}
	if inner.writes != 3 || inner.sets != 3 {
		t.Fatalf("steady reader: %d writes, %d deadlines; want 3 and 3 (a new deadline after each timeout)", inner.writes, inner.sets)
	}
	inner = &deadlineConn{timeouts: []int{2 * writeChunk, writeChunk - 1}}
	c = &stallConn{Conn: inner, stall: time.Hour}
	n, err = c.Write(p)
	if !errors.Is(err, os.ErrDeadlineExceeded) || n != 3*writeChunk-1 {
		t.Fatalf("stalling reader: wrote %d, %v; want %d and the deadline error", n, err, 3*writeChunk-1)
	}
}

// TestStallConnMovesItsDeadlineRarely: answers written in quick succession
// share one write deadline (it is moved once less than 0.9 of the bound is
// left), while a large answer is still written in writeChunk pieces and
// a deadline running short is moved again.
func TestStallConnMovesItsDeadlineRarely(t *testing.T) {
	inner := &deadlineConn{}
	c := &stallConn{Conn: inner, stall: time.Hour}
	for range 100 {
		if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	if inner.sets != 1 || inner.writes != 100 {
		t.Fatalf("100 small writes: %d deadlines set, %d writes; want 1 and 100", inner.sets, inner.writes)
	}
	if _, err := c.Write(make([]byte, 3*writeChunk+1)); err != nil {
		t.Fatal(err)
	}
	if inner.sets != 1 || inner.writes != 101 {
		t.Fatalf("a 3 chunk write: %d deadlines set, %d writes; want 1 and 101 (one write, not cut up)", inner.sets, inner.writes)
	}
	// Half the bound left: the next write moves the deadline.
	c.deadline.Store(time.Now().Add(30 * time.Minute).UnixNano())
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if inner.sets != 2 {
		t.Fatalf("with half the bound left: %d deadlines set, want 2", inner.sets)
	}
	if left := time.Until(time.Unix(0, c.deadline.Load())); left < 59*time.Minute {
		t.Fatalf("deadline moved to %v from now, want about an hour", left)
	}
	// net/http clears the write deadline after each answer: the bound's
	// stays, and the next answer does not move it again.
	if err := c.SetWriteDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if inner.sets != 2 {
		t.Fatalf("after a cleared deadline: %d deadlines set, want 2", inner.sets)
	}
	// A deadline set by someone else is kept, and the bound takes over
	// when it runs short.
	if err := c.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if inner.sets != 4 {
		t.Fatalf("after a one-minute deadline: %d deadlines set, want 4", inner.sets)
	}
}
