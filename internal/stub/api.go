package stub

import (
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/auth"
	"github.com/torqapi/integrations/internal/rpcstatus"
)

// serveAPI is GET /v1alpha/integrations below routing: auth, Prefer,
// faults, request validation, then the generated handler. Each step either
// answers (an error, validated on its way out) or passes on.
func (s *Stub) serveAPI(w http.ResponseWriter, r *http.Request) {
	principal, err := s.auth.Authenticate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if e := preferred(r); e != nil {
		s.writeError(w, r, e)
		return
	}
	if e := s.faults(r, principal); e != nil {
		s.writeError(w, r, e)
		return
	}
	r, typeID, e := canonicalQuery(r)
	if e != nil {
		s.writeError(w, r, e)
		return
	}
	if err := s.op.ValidateRequest(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	// The generated strict handler, given the parameter canonicalQuery has
	// already read: the generated wrapper would parse the query a third
	// time, and more leniently.
	s.strict.ListIntegrations(w, r, generated.ListIntegrationsParams{TypeID: typeID})
}

// writeError writes err as a google.rpc.Status answer of the operation,
// validated against the contract on its way out (unless validation is off).
func (s *Stub) writeError(w http.ResponseWriter, r *http.Request, err error) {
	s.op.Check(w, r, s.mode, s.reportViolation, func(cw http.ResponseWriter) { rpcstatus.Write(cw, err) })
}

// ---- Prefer: code=NNN ----

// PreferCodes returns the HTTP statuses `Prefer: code=NNN` can force:
// every status grpc-gateway's code table yields. 200 asks for the normal
// answer.
func PreferCodes() []int { return slices.Clone(preferCodes) }

var preferCodes = []int{200, 400, 401, 403, 404, 409, 429, 499, 500, 501, 503, 504}

// RetryAfter is the delay a forced 429 asks for.
const RetryAfter = time.Second

// forced returns the answer `Prefer: code=status` forces: the code the table
// maps to status, a realistic message, and the headers and details a real
// answer of that kind carries. Built per request: callers may add to it.
func forced(status int) *rpcstatus.Error {
	switch status {
	case http.StatusBadRequest:
		return rpcstatus.Errorf(rpcstatus.InvalidArgument, "type_id: value is not a valid integration type").
			WithDetails(rpcstatus.BadRequest(rpcstatus.FieldViolation{Field: "type_id", Description: "value is not a valid integration type"}))
	case http.StatusUnauthorized:
		return &rpcstatus.Error{Code: rpcstatus.Unauthenticated, Message: auth.MsgUnauthenticated}
	case http.StatusForbidden:
		return &rpcstatus.Error{Code: rpcstatus.PermissionDenied, Message: auth.MsgPermissionDenied}
	case http.StatusNotFound:
		return &rpcstatus.Error{Code: rpcstatus.NotFound, Message: "Not Found"}
	case http.StatusConflict:
		return &rpcstatus.Error{Code: rpcstatus.Aborted, Message: "The request was aborted by a concurrent change; retry it."}
	case http.StatusTooManyRequests:
		return tooManyRequests(RetryAfter)
	case 499:
		return &rpcstatus.Error{Code: rpcstatus.Canceled, Message: "context canceled"}
	case http.StatusInternalServerError:
		return &rpcstatus.Error{Code: rpcstatus.Internal, Message: "Internal error."}
	case http.StatusNotImplemented:
		return &rpcstatus.Error{Code: rpcstatus.Unimplemented, Message: "method ListIntegrations not implemented"}
	case http.StatusServiceUnavailable:
		return unavailable()
	case http.StatusGatewayTimeout:
		return &rpcstatus.Error{Code: rpcstatus.DeadlineExceeded, Message: "context deadline exceeded"}
	}
	return nil
}

func tooManyRequests(retry time.Duration) *rpcstatus.Error {
	secs := int64(math.Ceil(retry.Seconds()))
	if secs < 1 {
		secs = 1
	}
	return (&rpcstatus.Error{Code: rpcstatus.ResourceExhausted, Message: "Too many requests, retry later."}).
		WithHeader("Retry-After", strconv.FormatInt(secs, 10)).
		WithDetails(rpcstatus.RetryInfo(retry))
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
func preferred(r *http.Request) *rpcstatus.Error {
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
			if e := forced(status); err == nil && e != nil {
				return e
			}
			desc := "code=" + truncate(value, 16) + " is not supported; supported codes: " + preferSupported
			return rpcstatus.Errorf(rpcstatus.InvalidArgument, "Prefer: %s", desc).
				WithDetails(rpcstatus.BadRequest(rpcstatus.FieldViolation{Field: "Prefer", Description: desc}))
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
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
			return &rpcstatus.Error{Code: rpcstatus.Canceled, Message: "context canceled"}
		}
	}
	if s.cfg.ErrorRate > 0 && s.random() < s.cfg.ErrorRate {
		return unavailable()
	}
	return nil
}

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

// ---- the query, beyond what the contract can say ----

// canonicalQuery holds the query to grpc-gateway's rules and the stub's own
// where the contract says nothing, and returns r with its query rewritten
// to the one form the rest of the stack sees (`type_id=<value>` or empty),
// and the decoded type_id ("" when absent):
//
//   - a malformed query (a bad %-escape, a `;` separator), which
//     url.ParseQuery rejects and grpc-gateway answers 400, names its field;
//   - `typeId`, the gateway's camelCase alias, is accepted; naming both
//     `type_id` and `typeId` is an error;
//   - a repeated `type_id` is an error, never a silently unfiltered list;
//   - an empty `type_id=` is an error (grpc-gateway would treat it as absent
//     and list everything, which hides a client's bug);
//   - unknown parameters are ignored, as grpc-gateway ignores them.
func canonicalQuery(r *http.Request) (*http.Request, string, *rpcstatus.Error) {
	raw := r.URL.RawQuery
	if raw == "" {
		return r, "", nil
	}
	var (
		value, name string
		n, nAlias   int
		clean       = true // raw is exactly one `type_id=<value>` pair
	)
	for rest := raw; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, "&")
		if part == "" {
			clean = false
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if strings.Contains(part, ";") {
			return nil, "", badQuery(fieldName(k), "invalid semicolon separator in query")
		}
		key := k
		if needsUnescape(k) {
			var err error
			if key, err = url.QueryUnescape(k); err != nil {
				return nil, "", badQuery(fieldName(k), err.Error())
			}
			clean = false
		}
		if bad := badEscape(v); bad != "" {
			return nil, "", badQuery(fieldName(key), `invalid URL escape "`+bad+`"`)
		}
		switch key {
		case "type_id":
			n++
			value, name = v, key
		case "typeId":
			nAlias++
			value, name = v, key
			clean = false
		default:
			clean = false
		}
	}
	switch {
	case n > 0 && nAlias > 0:
		return nil, "", badQuery("typeId", "type_id and typeId name the same parameter; give only one")
	case n+nAlias > 1:
		return nil, "", badQuery(name, "given "+strconv.Itoa(n+nAlias)+" times; give it at most once")
	case n+nAlias == 1 && value == "":
		return nil, "", badQuery(name, "must not be empty; leave the parameter out to list every integration")
	}
	typeID := value
	if n+nAlias == 1 && needsUnescape(value) {
		var err error
		if typeID, err = url.QueryUnescape(value); err != nil { // unreachable: badEscape passed it
			return nil, "", badQuery(name, err.Error())
		}
		if typeID == "" {
			return nil, "", badQuery(name, "must not be empty; leave the parameter out to list every integration")
		}
	}
	if clean {
		return r, typeID, nil
	}
	canonical := ""
	if n+nAlias == 1 {
		canonical = "type_id=" + value
	}
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.RawQuery = canonical
	r2.URL = &u
	r2.Form = nil
	return r2, typeID, nil
}

func needsUnescape(s string) bool { return strings.ContainsAny(s, "%+") }

// badEscape returns the first malformed %-escape in s, or "".
func badEscape(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return s[i:min(i+3, len(s))]
		}
		i += 2
	}
	return ""
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// fieldName is a query key fit to be named in an error: unescaped when it
// can be, bounded in length.
func fieldName(k string) string {
	if u, err := url.QueryUnescape(k); err == nil {
		k = u
	}
	if k == "" {
		return "query"
	}
	return truncate(k, 64)
}

func badQuery(field, desc string) *rpcstatus.Error {
	return rpcstatus.Errorf(rpcstatus.InvalidArgument, "%s: %s", field, desc).
		WithDetails(rpcstatus.BadRequest(rpcstatus.FieldViolation{Field: field, Description: desc}))
}
