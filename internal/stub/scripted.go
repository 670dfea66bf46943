package stub

import (
	"bytes"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/torqapi/integrations/internal/rpcstatus"
	"github.com/torqapi/integrations/internal/script"
	"github.com/torqapi/integrations/internal/validate"
)

// Scripts returns the stub's scripted answers, to add, list and remove
// scripts (the control API and api/apitest do).
func (s *Stub) Scripts() *script.Set { return &s.scripts }

// bearer returns the token of an Authorization header that auth accepted.
func bearer(r *http.Request) string {
	_, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.TrimLeft(token, " ")
}

// scriptRequest is what a script can match r by: its workspace, its token,
// and its query under the declared names (r's query is canonical by now).
func scriptRequest(r *http.Request, workspace string) script.Request {
	return script.Request{
		Workspace: workspace,
		Token:     bearer(r),
		Query: func(name string) (string, bool) {
			vs, ok := r.URL.Query()[name]
			if !ok || len(vs) == 0 {
				return "", false
			}
			return vs[0], true
		},
	}
}

// runStep answers r with a scripted step, and reports whether it did: a
// pass step, or a delay alone, answers normally (after the delay). Faults and Torq's failure shapes outside the contract (302, the
// edge's HTML 502) are exempt from response validation; every other
// scripted answer is a contract-valid google.rpc.Status, checked like any.
func (s *Stub) runStep(w http.ResponseWriter, r *http.Request, ex *exchange, op *validate.Operation, pathParams map[string]string, st script.Step) {
	ctx := r.Context()
	if st.Delay > 0 && st.Fault != script.FaultDribble && st.Fault != script.FaultStall {
		if err := s.sleep(ctx, st.Delay); err != nil {
			rpcstatus.Write(w, errCanceled)
			return
		}
	}
	switch {
	case st.Fault != "":
		validate.Prevalidated(w)
		s.fault(w, r, ex, op, pathParams, st)
	case st.Status == http.StatusFound:
		validate.Prevalidated(w)
		writeExpiredRedirect(w)
	case st.Status == http.StatusBadGateway:
		validate.Prevalidated(w)
		writeEdgeHTML(w)
	case st.Status != 0:
		rpcstatus.Write(w, scriptedError(st, op))
	default: // pass, or a delay alone
		s.answer(w, r, ex, op, pathParams)
	}
}

// scriptedError is the Status a status step answers: the realistic body
// Prefer gives, with the step's message and Retry-After.
func scriptedError(st script.Step, op *validate.Operation) *rpcstatus.Error {
	var e *rpcstatus.Error
	switch {
	case st.Status == http.StatusTooManyRequests && st.RetryAfter > 0:
		e = tooManyRequests(st.RetryAfter)
	case st.Status == http.StatusServiceUnavailable && st.RetryAfter > 0:
		e = withRetry(unavailable(), st.RetryAfter)
	default:
		e = forced(st.Status, op)
	}
	if st.Message != "" {
		c := *e
		c.Message = st.Message
		e = &c
	}
	return e
}

// errCanceled is the answer to a client gone during a delay.
var errCanceled = &rpcstatus.Error{Code: rpcstatus.Canceled, Message: "context canceled"}

// ExpiredLocation is where the stub's 302 for an expired token points.
// Torq documents the status alone; the Location and the empty body are
// assumed, and no client should follow it.
const ExpiredLocation = "/login"

// writeExpiredRedirect is Torq's documented answer to an expired bearer
// token: a 302 (outside the contract, which models the gateway's answers).
func writeExpiredRedirect(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Location", ExpiredLocation)
	h.Set("Content-Length", "0")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// edgeHTML is the page an edge proxy sends when the service behind it fails,
// as Torq's 502 ("something went wrong on Torq's side") reaches clients.
const edgeHTML = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"

func writeEdgeHTML(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", strconv.Itoa(len(edgeHTML)))
	w.WriteHeader(http.StatusBadGateway)
	_, _ = w.Write([]byte(edgeHTML))
}

// fault breaks the exchange as the step says.
func (s *Stub) fault(w http.ResponseWriter, r *http.Request, ex *exchange, op *validate.Operation, pathParams map[string]string, st script.Step) {
	switch st.Fault {
	case script.FaultReset:
		reset(w)
	case script.FaultStall:
		d := st.Delay
		if d == 0 {
			d = script.DefaultStall
		}
		_ = s.sleep(r.Context(), d)
		reset(w)
	case script.FaultTruncate, script.FaultDribble:
		var b bufferedResponse
		s.answer(&b, r, ex, op, pathParams)
		h := w.Header()
		for k, v := range b.header {
			h[k] = v
		}
		h.Set("Content-Length", strconv.Itoa(b.body.Len()))
		w.WriteHeader(b.statusOr200())
		rc := http.NewResponseController(w)
		body := b.body.Bytes()
		if st.Fault == script.FaultTruncate {
			_, _ = w.Write(body[:len(body)/2])
			_ = rc.Flush()
			panic(http.ErrAbortHandler)
		}
		interval := st.Delay
		if interval == 0 {
			interval = script.DefaultDribbleInterval
		}
		// Ten chunks or so, whatever the size, so a dribble lasts about ten
		// intervals; the write deadline moves with each chunk.
		chunk := max(1, (len(body)+9)/10)
		for len(body) > 0 {
			n := min(chunk, len(body))
			_ = rc.SetWriteDeadline(time.Now().Add(interval + DribbleWriteTimeout))
			if _, err := w.Write(body[:n]); err != nil {
				return
			}
			_ = rc.Flush()
			body = body[n:]
			if len(body) > 0 && s.sleep(r.Context(), interval) != nil {
				return
			}
		}
	}
}

// DribbleWriteTimeout bounds each chunk of a dribbled answer.
const DribbleWriteTimeout = 10 * time.Second

// reset drops the connection without an answer: a TCP reset (SO_LINGER 0)
// where the connection can be taken over, else net/http's abort.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// bufferedResponse holds the normal answer of a truncated or dribbled
// step until it is written out broken.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header {
	if b.header == nil {
		b.header = http.Header{}
	}
	return b.header
}

func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedResponse) statusOr200() int {
	if b.status == 0 {
		return http.StatusOK
	}
	return b.status
}
