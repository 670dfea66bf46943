package stub

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/torqapi/integrations/internal/auth"
	"github.com/torqapi/integrations/internal/rpcstatus"
	"github.com/torqapi/integrations/internal/validate"
	"github.com/torqapi/integrations/internal/workspace"
)

// serveContract serves every operation of Torq's contract, below routing:
// the route (kin-openapi's router over the contract), auth, Prefer, faults,
// the gateway's query rules, request validation for this operation, then
// the generated strict handler. Each step either answers (an error,
// validated on its way out) or passes on. path is the request's path
// without Torq's /public prefix.
func (s *Stub) serveContract(w http.ResponseWriter, r *http.Request, path string) {
	ex := exchangeOf(w)
	if ex == nil {
		ex = new(exchange)
	}
	ex.api = true
	op, pathParams, err := s.validator.Find(r.Method, path)
	if err != nil {
		var re *validate.RouteError
		if errors.As(err, &re) && len(re.Allow) > 0 {
			rpcstatus.Write(w, methodNotAllowed(re.Allow))
			return
		}
		notFound(w, r)
		return
	}
	// Every answer from here on is checked against this operation's
	// responses on its way out, but for bytes validated when they were
	// built (validate.Prevalidated).
	op.Check(w, r, s.cfg.ValidateResponses, s.reportViolation, func(w http.ResponseWriter) {
		s.serveOperation(w, r, ex, op, pathParams)
	})
}

func (s *Stub) serveOperation(w http.ResponseWriter, r *http.Request, ex *exchange, op *validate.Operation, pathParams map[string]string) {
	principal, err := s.auth.Authenticate(r)
	ex.workspace = principal.Workspace
	var ws *workspace.Workspace
	if err == nil {
		// Deleted between the two looks: its credentials are gone too.
		if ws = s.store.Load().Get(principal.Workspace); ws == nil {
			err = auth.Unauthenticated()
		}
	}
	if err != nil {
		var expired *auth.ExpiredError
		if errors.As(err, &expired) && s.cfg.ExpiredToken == http.StatusFound {
			// Torq's documented answer to an expired token, outside the
			// contract.
			validate.Prevalidated(w)
			writeExpiredRedirect(w)
			return
		}
		rpcstatus.Write(w, err)
		return
	}
	r = withWorkspace(r, ws)
	if e := preferred(r, op); e != nil {
		rpcstatus.Write(w, e)
		return
	}
	r, warnings, e := s.queries[op].apply(r)
	ex.warnings = append(ex.warnings, warnings...)
	if e != nil {
		ex.violate(e)
		rpcstatus.Write(w, e)
		return
	}
	if hit, ok := s.scripts.Next(scriptRequest(r, workspaceOf(principal))); ok {
		// A scripted step replaces the random faults: scripted tests are
		// deterministic.
		ex.script, ex.step = hit.ScriptID, hit.Index
		s.runStep(w, r, ex, op, pathParams, hit.Step)
		return
	}
	if e := s.faults(r, principal); e != nil {
		if e == errEdge {
			validate.Prevalidated(w)
			writeEdgeHTML(w)
			return
		}
		rpcstatus.Write(w, e)
		return
	}
	s.answer(w, r, ex, op, pathParams)
}

// answer is the normal answer of op: request validation for this
// operation, then the generated handler.
func (s *Stub) answer(w http.ResponseWriter, r *http.Request, ex *exchange, op *validate.Operation, pathParams map[string]string) {
	if err := op.ValidateRequest(r, pathParams); err != nil {
		ex.violate(err)
		rpcstatus.Write(w, err)
		return
	}
	for name, value := range pathParams {
		r.SetPathValue(name, value)
	}
	s.handlers[op](w, r)
}

// violate records why a request broke the contract: each field violation
// of its 400 as "field: description", or the message.
func (ex *exchange) violate(err error) {
	e := rpcstatus.FromError(err)
	n := len(ex.violations)
	for _, d := range e.Details {
		if d.Type != rpcstatus.TypeBadRequest {
			continue
		}
		list, _ := d.AdditionalProperties["fieldViolations"].([]any)
		for _, v := range list {
			if fv, ok := v.(map[string]any); ok {
				f, _ := fv["field"].(string)
				desc, _ := fv["description"].(string)
				ex.violations = append(ex.violations, f+": "+desc)
			}
		}
	}
	if len(ex.violations) == n {
		ex.violations = append(ex.violations, e.Message)
	}
}

// workspaceOf is the workspace a principal belongs to.
func workspaceOf(p auth.Principal) string { return p.Workspace }

// DefaultWorkspace holds the embedded data, the demo token and the demo
// client, and whatever flags and single-workspace fixture files configure.
const DefaultWorkspace = auth.DefaultWorkspace

// methodNotAllowed is grpc-gateway's code 12 "Method Not Allowed", answered
// as HTTP 405 with Allow, the status clients can act on (the gateway itself
// answers 501).
func methodNotAllowed(methods []string) *rpcstatus.Error {
	return &rpcstatus.Error{
		Code:       rpcstatus.Unimplemented,
		Message:    "Method Not Allowed",
		HTTPStatus: http.StatusMethodNotAllowed,
		Header:     http.Header{"Allow": {strings.Join(methods, ", ")}},
	}
}

// ---- Prefer: code=NNN ----

// preferCodes are the HTTP statuses `Prefer: code=NNN` can force: every
// status grpc-gateway's code table yields. 200 asks for the normal answer.
var preferCodes = []int{200, 400, 401, 403, 404, 409, 429, 499, 500, 501, 503, 504}

// RetryAfter is the delay a forced 429 asks for.
const RetryAfter = time.Second

// forced returns the answer `Prefer: code=status` forces: the code the table
// maps to status, a realistic message for op, and the headers and details a
// real answer of that kind carries. A forced 400 names op's first query
// parameter, as a bad value of it would.
func forced(status int, op *validate.Operation) *rpcstatus.Error {
	switch status {
	case http.StatusBadRequest:
		field := "request"
		if qp := op.QueryParameters(); len(qp) > 0 {
			field = qp[0].Name
		}
		return badQuery(field, "value is not valid")
	case http.StatusUnauthorized:
		return &rpcstatus.Error{Code: rpcstatus.Unauthenticated, Message: auth.MsgUnauthenticated}
	case http.StatusForbidden:
		return auth.PermissionDenied()
	case http.StatusNotFound:
		return &rpcstatus.Error{Code: rpcstatus.NotFound, Message: "Not Found"}
	case http.StatusConflict:
		return &rpcstatus.Error{Code: rpcstatus.Aborted, Message: "The request was aborted by a concurrent change; retry it."}
	case http.StatusTooManyRequests:
		return tooManyRequests(RetryAfter)
	case 499:
		return errCanceled
	case http.StatusInternalServerError:
		return &rpcstatus.Error{Code: rpcstatus.Internal, Message: "Internal error."}
	case http.StatusNotImplemented:
		return &rpcstatus.Error{Code: rpcstatus.Unimplemented, Message: "method " + op.ID() + " not implemented"}
	case http.StatusServiceUnavailable:
		return unavailable()
	case http.StatusGatewayTimeout:
		return &rpcstatus.Error{Code: rpcstatus.DeadlineExceeded, Message: "context deadline exceeded"}
	}
	return nil
}

func tooManyRequests(retry time.Duration) *rpcstatus.Error {
	return withRetry(&rpcstatus.Error{Code: rpcstatus.ResourceExhausted, Message: "Too many requests, retry later."}, retry)
}

// withRetry adds Retry-After (whole seconds, at least 1) and a
// google.rpc.RetryInfo with the exact delay to e.
func withRetry(e *rpcstatus.Error, retry time.Duration) *rpcstatus.Error {
	secs := int64(math.Ceil(retry.Seconds()))
	if secs < 1 {
		secs = 1
	}
	return e.WithHeader("Retry-After", strconv.FormatInt(secs, 10)).WithDetails(rpcstatus.RetryInfo(retry))
}

func unavailable() *rpcstatus.Error {
	return &rpcstatus.Error{Code: rpcstatus.Unavailable, Message: "The service is currently unavailable, retry later."}
}

var preferSupported = func() string {
	s := make([]string, len(preferCodes))
	for i, c := range preferCodes {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ", ")
}()

// preferred reads `Prefer: code=NNN` (Prism's convention; RFC 7240 syntax:
// preferences separated by commas, parameters by semicolons; other
// preferences are ignored). It returns the forced answer, an
// INVALID_ARGUMENT naming the supported codes for a value it cannot force,
// or nil to answer normally.
func preferred(r *http.Request, op *validate.Operation) *rpcstatus.Error {
	values := r.Header["Prefer"]
	if len(values) == 0 {
		return nil
	}
	for _, v := range values {
		for _, pref := range strings.Split(v, ",") {
			pref, _, _ = strings.Cut(pref, ";")
			name, value, ok := strings.Cut(strings.TrimSpace(pref), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(name), "code") {
				continue
			}
			value = strings.Trim(strings.TrimSpace(value), `"`)
			status, err := strconv.Atoi(value)
			if err == nil && status == http.StatusOK {
				return nil
			}
			if e := forced(status, op); err == nil && e != nil {
				return e
			}
			desc := "code=" + truncate(value, 16) + " is not supported; supported codes: " + preferSupported
			return rpcstatus.Errorf(rpcstatus.InvalidArgument, "Prefer: %s", desc).
				WithDetails(rpcstatus.BadRequest(rpcstatus.FieldViolation{Field: "Prefer", Description: desc}))
		}
	}
	return nil
}

// ---- faults: rate limit, latency, error rate ----

// faults applies, in order, the rate limit (a request over it answers at
// once), the latency, and the error rate (a failing backend answers after
// its delay).
func (s *Stub) faults(r *http.Request, p auth.Principal) *rpcstatus.Error {
	if s.limiters != nil {
		if ok, wait := s.limiters.allow(p.ID, s.now()); !ok {
			return tooManyRequests(wait)
		}
	}
	if s.cfg.LatencyMax > 0 {
		d := s.cfg.LatencyMin
		if spread := s.cfg.LatencyMax - s.cfg.LatencyMin; spread > 0 {
			d += time.Duration(s.random() * float64(spread+1))
		}
		if err := s.sleep(r.Context(), d); err != nil {
			return errCanceled
		}
	}
	if s.cfg.ErrorRate > 0 && s.random() < s.cfg.ErrorRate {
		if s.cfg.ErrorStatus == http.StatusBadGateway {
			return errEdge
		}
		return unavailable()
	}
	return nil
}

// errEdge stands for Torq's edge failing (--error-status 502): the answer
// is the edge's HTML page, not a Status. It is only compared, never
// written.
var errEdge = &rpcstatus.Error{Code: rpcstatus.Unavailable, Message: "edge"}

// maxLimiters bounds the per-principal limiters; principals are bounded by
// the configured tokens and client, so this only guards against misuse.
const maxLimiters = 10000

// limiterSet is a token bucket per principal.
type limiterSet struct {
	mu    sync.Mutex
	m     map[string]*rate.Limiter
	limit rate.Limit
	burst int
}

func newLimiterSet(perSecond float64) *limiterSet {
	return &limiterSet{m: make(map[string]*rate.Limiter), limit: rate.Limit(perSecond), burst: max(1, int(math.Ceil(perSecond)))}
}

// allow takes a token from id's bucket, or says how long until one is there.
func (l *limiterSet) allow(id string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	lim := l.m[id]
	if lim == nil {
		if len(l.m) >= maxLimiters {
			clear(l.m)
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		l.m[id] = lim
	}
	l.mu.Unlock()
	if lim.AllowN(now, 1) {
		return true, 0
	}
	res := lim.ReserveN(now, 1)
	wait := res.DelayFrom(now)
	res.CancelAt(now)
	return false, wait.Round(time.Millisecond)
}
