package stub

import (
	"context"
	"log/slog"
	"net/http"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	integrations "github.com/torqapi/integrations"
	"github.com/torqapi/integrations/internal/control"
	"github.com/torqapi/integrations/internal/journal"
	"github.com/torqapi/integrations/internal/rpcstatus"
)

const errorLevel = slog.LevelError

// publicPrefix is Torq's base path (https://api.torq.io/public): the stub
// serves the contract under it and under /, so that switching between Torq
// and the stub is a host swap.
const publicPrefix = "/public"

// routes is the ServeMux of the stub's own routes; every other path is the
// contract's, routed by kin-openapi's router over the contract
// (serveContract). Patterns carry no method: each route checks its methods
// itself so that a wrong method on a known path is 405 with Allow, written
// as a google.rpc.Status like every other error.
func (s *Stub) routes() http.Handler {
	token := http.HandlerFunc(s.serveToken) // answers every method itself
	health := allow(http.HandlerFunc(s.serveHealth), http.MethodGet, http.MethodHead)
	spec := allow(http.HandlerFunc(serveSpec), http.MethodGet, http.MethodHead)
	// The stub's own routes are a handful of fixed paths, told apart by a
	// switch; every other path is the contract's.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/v1/auth/token":
			token.ServeHTTP(w, r)
		case p == "/healthz":
			health.ServeHTTP(w, r)
		case p == "/openapi.yaml":
			spec.ServeHTTP(w, r)
		case strings.HasPrefix(p, control.Prefix) && !s.cfg.SeparateControl:
			s.control.ServeHTTP(w, r)
		default:
			if rest, ok := strings.CutPrefix(p, publicPrefix); ok && strings.HasPrefix(rest, "/") {
				p = rest
			}
			s.serveContract(w, r, p)
		}
	})
}

// errNotFound is grpc-gateway's answer to a path it has no route for.
var errNotFound = &rpcstatus.Error{Code: rpcstatus.NotFound, Message: "Not Found"}

func notFound(w http.ResponseWriter, _ *http.Request) { rpcstatus.Write(w, errNotFound) }

// allow serves h for the given methods and answers any other method with
// methodNotAllowed.
func allow(h http.Handler, methods ...string) http.Handler {
	e := methodNotAllowed(methods)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, m := range methods {
			if r.Method == m {
				h.ServeHTTP(w, r)
				return
			}
		}
		rpcstatus.Write(w, e)
	})
}

// TokenReadTimeout bounds how long the token endpoint waits for a request
// body, so a client that trickles one cannot hold the server; the server
// needs no ReadTimeout for every request.
const TokenReadTimeout = 10 * time.Second

func (s *Stub) serveToken(w http.ResponseWriter, r *http.Request) {
	// A writer that cannot set deadlines (a test recorder) is served as is.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.tokenReadTimeout))
	s.auth.ServeToken(w, r)
}

func (s *Stub) serveHealth(w http.ResponseWriter, _ *http.Request) {
	body := `{"status":"ok","integrations":` + strconv.Itoa(s.Len()) + "}\n"
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(body))
}

// serveSpec serves the embedded contract exactly as it is in the repository.
func serveSpec(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/yaml")
	h.Set("Content-Length", strconv.Itoa(len(integrations.OpenAPISpec)))
	_, _ = w.Write(integrations.OpenAPISpec)
}

// logWriter records the status for the request log and whether anything
// was written yet (a panic after that cannot change the answer).
type logWriter struct {
	http.ResponseWriter
	status int
	ex     exchange
}

// exchange is what the chain learns about one request of Torq's API on its
// way through, for the journal: the workspace, the warnings (what Torq
// accepts but a careful client would not send), the contract violations,
// and the script step that answered.
type exchange struct {
	api        bool // the request reached Torq's API routes
	workspace  string
	warnings   []string
	violations []string
	script     string
	step       int
}

func (ex *exchange) reset() {
	*ex = exchange{warnings: ex.warnings[:0], violations: ex.violations[:0]}
}

// exchangeOf finds the exchange of the request w answers, through the
// writers the chain wraps around the logWriter; nil when there is none
// (a writer from outside the stub's outer layer).
func exchangeOf(w http.ResponseWriter) *exchange {
	for {
		switch v := w.(type) {
		case *logWriter:
			return &v.ex
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return nil
		}
	}
}

func (lw *logWriter) WriteHeader(status int) {
	if lw.status == 0 {
		lw.status = status
	}
	lw.ResponseWriter.WriteHeader(status)
}

func (lw *logWriter) Write(b []byte) (int, error) {
	if lw.status == 0 {
		lw.status = http.StatusOK
	}
	return lw.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the writer underneath.
func (lw *logWriter) Unwrap() http.ResponseWriter { return lw.ResponseWriter }

var logWriterPool = sync.Pool{New: func() any { return new(logWriter) }}

// serveLogged is the outermost layer: request id, recover, request log,
// around next (the stub's routes).
func (s *Stub) serveLogged(w http.ResponseWriter, r *http.Request, next http.Handler) {
	start := s.now()
	id := s.requestID(r)
	w.Header()["X-Request-Id"] = []string{id}
	lw := logWriterPool.Get().(*logWriter)
	lw.ResponseWriter, lw.status = w, 0
	lw.ex.reset()
	defer func() {
		abort := false
		if p := recover(); p == http.ErrAbortHandler {
			// A deliberate abort (a scripted fault): the request is
			// logged, then the connection dropped.
			abort = true
		} else if p != nil {
			s.log.LogAttrs(r.Context(), errorLevel, "panic",
				slog.String("request_id", id),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Any("panic", p),
				slog.String("stack", string(debug.Stack())))
			if lw.status != 0 {
				// The answer is on its way; only dropping the connection
				// (below, once the request is logged) can tell the client
				// it is broken.
				abort = true
			} else {
				h := w.Header()
				for k := range h {
					if k != "X-Request-Id" {
						delete(h, k)
					}
				}
				rpcstatus.Write(lw, &rpcstatus.Error{Code: rpcstatus.Internal, Message: "Internal error."})
			}
		}
		if h := s.log.Handler(); h.Enabled(r.Context(), slog.LevelInfo) {
			// The line's time is when the request arrived, as in access
			// logs; the duration needs only the monotonic clock.
			d := s.since(start)
			// The record goes to the handler directly: Logger.LogAttrs
			// would also capture the caller's PC, which the line never
			// shows.
			_ = h.Handle(r.Context(), requestRecord(start, r.Method, r.URL.Path, lw.status, d, id))
		}
		if lw.ex.api && s.journal != nil {
			s.journal.Record(journal.Entry{
				Time: start, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
				Status: lw.status, Workspace: lw.ex.workspace, RequestID: id,
				Warnings: lw.ex.warnings, Violations: lw.ex.violations,
				Script: lw.ex.script, Step: lw.ex.step,
			})
		}
		lw.ResponseWriter = nil
		logWriterPool.Put(lw)
		if abort {
			panic(http.ErrAbortHandler)
		}
	}()
	if p := r.URL.Path; p == "" || p[0] != '/' || (p != "/" && path.Clean(p) != p) {
		// ServeMux would redirect an unclean path with an HTML body; the
		// gateway knows no such path.
		notFound(lw, r)
		return
	}
	next.ServeHTTP(lw, r)
}

// requestRecord is the record of one request's log line: message "request"
// at level INFO with the attributes method, path, status, duration and
// request_id, in that order.
func requestRecord(t time.Time, method, path string, status int, d time.Duration, requestID string) slog.Record {
	rec := slog.NewRecord(t, slog.LevelInfo, "request", 0)
	rec.AddAttrs(
		slog.String("method", method),
		slog.String("path", path),
		slog.Int("status", status),
		slog.Duration("duration", d),
		slog.String("request_id", requestID))
	return rec
}

// maxRequestIDLen bounds a client's X-Request-Id that the stub echoes.
const maxRequestIDLen = 128

// requestID returns the client's X-Request-Id when it is short and made of
// safe characters, or a new one: a random per-process prefix and a counter.
func (s *Stub) requestID(r *http.Request) string {
	if v := r.Header["X-Request-Id"]; len(v) == 1 && validRequestID(v[0]) {
		return v[0]
	}
	var buf [32]byte
	b := append(buf[:0], s.idPrefix...)
	b = strconv.AppendUint(b, s.idSeq.Add(1), 10)
	return string(b)
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

func requestIDAttr(w http.ResponseWriter) slog.Attr {
	return slog.String("request_id", w.Header().Get("X-Request-Id"))
}

func errAttr(err error) slog.Attr { return slog.String("error", err.Error()) }

// reportViolation logs a response that breaks the contract.
func (s *Stub) reportViolation(w http.ResponseWriter, r *http.Request, status int, err error) {
	attrs := []slog.Attr{requestIDAttr(w)}
	ctx := context.Background()
	if r != nil {
		ctx = r.Context()
		attrs = append(attrs, slog.String("method", r.Method), slog.String("path", r.URL.Path))
	}
	attrs = append(attrs, slog.Int("status", status), slog.String("mode", string(s.cfg.ValidateResponses)), errAttr(err))
	if ex := exchangeOf(w); ex != nil {
		ex.violations = append(ex.violations, "response: "+err.Error())
	}
	s.log.LogAttrs(ctx, errorLevel, "response breaks the contract", attrs...)
}
