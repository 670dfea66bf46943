package stub

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	integrations "github.com/torqapi/integrations"
	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/auth"
	"github.com/torqapi/integrations/internal/rpcstatus"
	"github.com/torqapi/integrations/internal/testutil"
)

// TestStack runs table cases through the whole handler stack: routing,
// auth, the query rules, the handler and the error bodies.
func TestStack(t *testing.T) {
	s := newStub(t, Config{Auth: auth.Config{
		Tokens:       []string{auth.DemoToken},
		DeniedTokens: []string{"denied-token"},
	}})
	bearer := http.Header{"Authorization": {demoAuth}}
	tests := []struct {
		name   string
		req    request
		status int
		code   rpcstatus.Code // for errors
		field  string         // the BadRequest field, for 400s
		header map[string]string
		golden string
		same   string // the body equals this golden file
	}{
		{name: "list", req: request{target: "/public/v1alpha/integrations", header: bearer}, status: 200, golden: "list_all"},
		{name: "list without /public", req: request{target: "/v1alpha/integrations", header: bearer}, status: 200, same: "list_all"},
		{name: "filter", req: request{target: "/public/v1alpha/integrations?type_id=webhook", header: bearer}, status: 200, golden: "list_webhook"},
		{name: "filter escaped", req: request{target: "/public/v1alpha/integrations?type_id=web%68ook", header: bearer}, status: 200, same: "list_webhook"},
		{name: "filter alias typeId", req: request{target: "/public/v1alpha/integrations?typeId=webhook", header: bearer}, status: 200, same: "list_webhook"},
		{name: "filter one", req: request{target: "/public/v1alpha/integrations?type_id=slack", header: bearer}, status: 200, golden: "list_slack"},
		{name: "filter is exact", req: request{target: "/public/v1alpha/integrations?type_id=Webhook", header: bearer}, status: 200, golden: "list_empty"},
		{name: "filter unknown type", req: request{target: "/public/v1alpha/integrations?type_id=nope", header: bearer}, status: 200, same: "list_empty"},
		{name: "unknown parameter ignored", req: request{target: "/public/v1alpha/integrations?page_size=2", header: bearer}, status: 200, same: "list_all"},
		{name: "unknown parameter beside filter", req: request{target: "/public/v1alpha/integrations?x=1&type_id=slack", header: bearer}, status: 200, same: "list_slack"},
		{name: "repeated type_id", req: request{target: "/public/v1alpha/integrations?type_id=webhook&type_id=slack", header: bearer}, status: 400, code: 3, field: "type_id", golden: "repeated_type_id"},
		{name: "repeated typeId", req: request{target: "/public/v1alpha/integrations?typeId=a&typeId=b", header: bearer}, status: 400, code: 3, field: "type_id"},
		{name: "type_id and typeId", req: request{target: "/public/v1alpha/integrations?type_id=a&typeId=a", header: bearer}, status: 400, code: 3, field: "type_id"},
		// An empty value is proto3's default: the gateway lists everything.
		{name: "empty type_id", req: request{target: "/public/v1alpha/integrations?type_id=", header: bearer}, status: 200, same: "list_all"},
		{name: "type_id without =", req: request{target: "/public/v1alpha/integrations?type_id", header: bearer}, status: 200, same: "list_all"},
		{name: "empty typeId", req: request{target: "/public/v1alpha/integrations?typeId=", header: bearer}, status: 200, same: "list_all"},
		{name: "empty and a value", req: request{target: "/public/v1alpha/integrations?type_id=&type_id=slack", header: bearer}, status: 400, code: 3, field: "type_id"},
		{name: "escaped alias", req: request{target: "/public/v1alpha/integrations?type%49d=slack", header: bearer}, status: 200, same: "list_slack"},
		{name: "GET with a body", req: request{target: "/public/v1alpha/integrations", header: bearer, body: strings.Repeat("x", 70000)}, status: 200, same: "list_all"},
		{name: "malformed escape", req: request{target: "/public/v1alpha/integrations?type_id=%zz", header: bearer}, status: 400, code: 3, field: "type_id", golden: "malformed_query"},
		{name: "truncated escape", req: request{target: "/public/v1alpha/integrations?type_id=ab%2", header: bearer}, status: 400, code: 3, field: "type_id"},
		{name: "malformed unknown parameter", req: request{target: "/public/v1alpha/integrations?foo=%zz&type_id=slack", header: bearer}, status: 400, code: 3, field: "foo"},
		{name: "malformed key", req: request{target: "/public/v1alpha/integrations?%zz=1", header: bearer}, status: 400, code: 3, field: "%zz"},
		{name: "semicolon separator", req: request{target: "/public/v1alpha/integrations?type_id=a;b", header: bearer}, status: 400, code: 3, field: "type_id"},
		{name: "unknown path", req: request{target: "/public/v1alpha/nope", header: bearer}, status: 404, code: 5, golden: "not_found"},
		{name: "root", req: request{target: "/"}, status: 404, code: 5},
		{name: "trailing slash", req: request{target: "/public/v1alpha/integrations/", header: bearer}, status: 404, code: 5},
		{name: "unclean path", req: request{target: "/public/../v1alpha/integrations", header: bearer}, status: 404, code: 5},
		{name: "wrong method", req: request{method: "POST", target: "/public/v1alpha/integrations", header: bearer}, status: 405, code: 12, header: map[string]string{"Allow": "GET"}, golden: "method_not_allowed"},
		{name: "HEAD on the list", req: request{method: "HEAD", target: "/v1alpha/integrations", header: bearer}, status: 405, code: 12, header: map[string]string{"Allow": "GET"}},
		{name: "wrong method on healthz", req: request{method: "DELETE", target: "/healthz"}, status: 405, code: 12, header: map[string]string{"Allow": "GET, HEAD"}},
		{name: "no token", req: request{target: "/public/v1alpha/integrations"}, status: 401, code: 16, header: map[string]string{"WWW-Authenticate": `Bearer realm="torq"`}, golden: "unauthenticated"},
		{name: "malformed authorization", req: request{target: "/public/v1alpha/integrations", header: http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}}, status: 401, code: 16, header: map[string]string{"WWW-Authenticate": `Bearer realm="torq"`}},
		{name: "bearer without token", req: request{target: "/public/v1alpha/integrations", header: http.Header{"Authorization": {"Bearer"}}}, status: 401, code: 16, header: map[string]string{"WWW-Authenticate": `Bearer realm="torq"`}},
		{name: "unknown token", req: request{target: "/public/v1alpha/integrations", header: http.Header{"Authorization": {"Bearer nope"}}}, status: 401, code: 16, header: map[string]string{"WWW-Authenticate": `Bearer realm="torq"`}},
		{name: "denied token", req: request{target: "/public/v1alpha/integrations", header: http.Header{"Authorization": {"Bearer denied-token"}}}, status: 403, code: 7, header: map[string]string{"WWW-Authenticate": `Bearer realm="torq", error="insufficient_scope"`}, golden: "permission_denied"},
		{name: "auth before query rules", req: request{target: "/public/v1alpha/integrations?type_id=%zz"}, status: 401, code: 16},
		{name: "healthz", req: request{target: "/healthz"}, status: 200, golden: "healthz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.req.do(t, s)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.status >= 400 && tt.req.method != "HEAD" {
				st := status(t, w)
				if rpcstatus.Code(st.Code) != tt.code {
					t.Errorf("code %d, want %d: %s", st.Code, tt.code, w.Body)
				}
				if fields := fieldViolations(st); tt.field != "" && !slices.Equal(fields, []string{tt.field}) {
					t.Errorf("BadRequest fields %q, want [%q]", fields, tt.field)
				}
			}
			for k, v := range tt.header {
				if got := w.Header().Get(k); !strings.HasPrefix(got, v) {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tt.golden != "" {
				golden(t, tt.golden, w.Body.Bytes())
			}
			if tt.same != "" {
				golden(t, tt.same, w.Body.Bytes())
			}
		})
	}
}

func TestListHeaders(t *testing.T) {
	s := newStub(t, Config{})
	w := get(t, s, "/public/v1alpha/integrations")
	if got, want := w.Header().Get("Content-Length"), len(w.Body.Bytes()); got != strings.TrimSpace(itoa(want)) {
		t.Errorf("Content-Length %q, body %d bytes", got, want)
	}
	var list generated.IntegrationList
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Integrations) != 3 || list.Integrations[0].Name != "my_integration" || list.Integrations[2].Name != "github_pushes" {
		t.Errorf("want the items in file order, got %+v", list.Integrations)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestDefaultData(t *testing.T) {
	s, err := NewHandler(Config{})
	if err != nil {
		t.Fatal(err)
	}
	w := get(t, s, "/public/v1alpha/integrations?type_id=webhook")
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var list generated.IntegrationList
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Integrations) == 0 {
		t.Error("the default data has no webhook integration")
	}
	for _, it := range list.Integrations {
		if it.TypeID != "webhook" {
			t.Errorf("filter returned type_id %q", it.TypeID)
		}
	}
}

func TestOpenAPISpec(t *testing.T) {
	s := newStub(t, Config{})
	w := request{target: "/openapi.yaml"}.do(t, s)
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), integrations.OpenAPISpec) {
		t.Fatalf("status %d, %d bytes; want the embedded contract (%d bytes)", w.Code, w.Body.Len(), len(integrations.OpenAPISpec))
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/yaml" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestRequestID(t *testing.T) {
	s := newStub(t, Config{})
	w := get(t, s, "/public/v1alpha/integrations", "X-Request-Id", "abc-123")
	if got := w.Header().Get("X-Request-Id"); got != "abc-123" {
		t.Errorf("X-Request-Id %q, want the client's", got)
	}
	w = get(t, s, "/public/v1alpha/integrations", "X-Request-Id", "bad id\x01")
	if got := w.Header().Get("X-Request-Id"); got == "" || strings.Contains(got, "bad") {
		t.Errorf("X-Request-Id %q, want a generated one", got)
	}
	a := get(t, s, "/healthz").Header().Get("X-Request-Id")
	b := get(t, s, "/healthz").Header().Get("X-Request-Id")
	if a == b {
		t.Errorf("two requests got the same id %q", a)
	}
}

// syncBuffer is a log sink safe for the concurrent writes of a server.
// syncBuffer is the tests' concurrent-safe log buffer.
type syncBuffer = testutil.Buffer

func TestRequestLog(t *testing.T) {
	var logs syncBuffer
	s := newStub(t, Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	get(t, s, "/public/v1alpha/integrations?type_id=webhook&secret=hunter2", "X-Request-Id", "req-1")
	request{target: "/v1alpha/integrations", header: http.Header{"Authorization": {"Bearer not-a-real-token"}}}.do(t, s)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one line per request, got %d:\n%s", len(lines), logs.String())
	}
	for _, want := range []string{"msg=request", "method=GET", "path=/public/v1alpha/integrations", "status=200", "duration=", "request_id=req-1"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line lacks %q: %s", want, lines[0])
		}
	}
	if !strings.Contains(lines[1], "status=401") {
		t.Errorf("second line: %s", lines[1])
	}
	for _, secret := range []string{auth.DemoToken, "not-a-real-token", "hunter2"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log contains %q:\n%s", secret, logs.String())
		}
	}
}

// TestTokenFlow gets a token from the token endpoint and lists with it.
func TestTokenFlow(t *testing.T) {
	s := newStub(t, Config{Auth: auth.Config{Tokens: []string{}}})
	form := url.Values{"grant_type": {"client_credentials"}}.Encode()
	w := request{method: "POST", target: "/v1/auth/token", body: form, header: http.Header{
		"Content-Type":  {"application/x-www-form-urlencoded"},
		"Authorization": {"Basic " + basic(auth.DemoClientID, auth.DemoClientSecret)},
	}}.do(t, s)
	if w.Code != 200 {
		t.Fatalf("token endpoint: %d %s", w.Code, w.Body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil || tok.AccessToken == "" || tok.ExpiresIn != 3600 || tok.TokenType != "Bearer" {
		t.Fatalf("token answer %s (%v)", w.Body, err)
	}
	if w := get(t, s, "/public/v1alpha/integrations"); w.Code != 401 {
		t.Errorf("the demo token was removed but answers %d", w.Code)
	}
	w = request{target: "/public/v1alpha/integrations", header: http.Header{"Authorization": {"Bearer " + tok.AccessToken}}}.do(t, s)
	if w.Code != 200 {
		t.Fatalf("list with the issued token: %d %s", w.Code, w.Body)
	}
	golden(t, "list_all", w.Body.Bytes())

	w = request{method: "POST", target: "/v1/auth/token", body: form, header: http.Header{
		"Content-Type":  {"application/x-www-form-urlencoded"},
		"Authorization": {"Basic " + basic(auth.DemoClientID, "wrong")},
	}}.do(t, s)
	if w.Code != 401 || !strings.Contains(w.Body.String(), "invalid_client") {
		t.Errorf("bad secret: %d %s", w.Code, w.Body)
	}

	// The token endpoint answers a wrong method itself, in RFC 6749 JSON.
	w = request{method: "GET", target: "/v1/auth/token"}.do(t, s)
	if w.Code != 405 || w.Header().Get("Allow") != "POST" || w.Header().Get("Cache-Control") != "no-store" || !strings.Contains(w.Body.String(), `"error":"invalid_request"`) {
		t.Errorf("GET: %d %v %s", w.Code, w.Header(), w.Body)
	}
}

func basic(id, secret string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// TestExpiredToken: an expired issued token is answered as Torq's errors
// page documents it, 302, by default; ExpiredToken 401 gives the
// gateway's UNAUTHENTICATED instead.
func TestExpiredToken(t *testing.T) {
	for _, mode := range []int{0, http.StatusFound, http.StatusUnauthorized} {
		t.Run(itoa(mode), func(t *testing.T) {
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			s := newStub(t, Config{ExpiredToken: mode, Auth: auth.Config{Now: func() time.Time { return now }, TokenTTL: time.Minute}})
			tok, _ := s.auth.IssueToken(auth.DemoClientID)
			hdr := http.Header{"Authorization": {"Bearer " + tok}}
			if w := (request{target: "/public/v1alpha/integrations", header: hdr}).do(t, s); w.Code != 200 {
				t.Fatalf("fresh token: %d %s", w.Code, w.Body)
			}
			now = now.Add(2 * time.Minute)
			w := request{target: "/public/v1alpha/integrations", header: hdr}.do(t, s)
			if mode == http.StatusUnauthorized {
				if w.Code != 401 || status(t, w).Message != auth.MsgUnauthenticated || w.Header().Get("WWW-Authenticate") == "" {
					t.Fatalf("expired token: %d %s %v", w.Code, w.Body, w.Header())
				}
				return
			}
			if w.Code != 302 || w.Header().Get("Location") != ExpiredLocation || w.Body.Len() != 0 {
				t.Fatalf("expired token: %d %q %v", w.Code, w.Body, w.Header())
			}
		})
	}
	if _, err := NewHandler(Config{ExpiredToken: 403}); err == nil {
		t.Error("ExpiredToken 403: want an error")
	}
}

// TestPrefer forces every supported status, in order after auth.
func TestPrefer(t *testing.T) {
	s := newStub(t, Config{Auth: auth.Config{DeniedTokens: []string{"denied-token"}}})
	for _, code := range preferCodes {
		t.Run(itoa(code), func(t *testing.T) {
			w := get(t, s, "/public/v1alpha/integrations", "Prefer", "code="+itoa(code))
			if w.Code != code {
				t.Fatalf("status %d, want %d: %s", w.Code, code, w.Body)
			}
			if code == 200 {
				golden(t, "list_all", w.Body.Bytes())
				return
			}
			st := status(t, w)
			want, _ := rpcstatus.CodeForHTTPStatus(code)
			if rpcstatus.Code(st.Code) != want || st.Message == "" {
				t.Errorf("code %d message %q, want code %d", st.Code, st.Message, want)
			}
			switch code {
			case 401:
				if st.Message != auth.MsgUnauthenticated || w.Header().Get("WWW-Authenticate") == "" {
					t.Errorf("401: %q %v", st.Message, w.Header())
				}
			case 403:
				if st.Message != auth.MsgPermissionDenied {
					t.Errorf("403: %q", st.Message)
				}
			case 429:
				if w.Header().Get("Retry-After") != "1" || !hasDetail(st, rpcstatus.TypeRetryInfo) {
					t.Errorf("429: Retry-After %q, body %s", w.Header().Get("Retry-After"), w.Body)
				}
			}
			golden(t, "prefer_"+itoa(code), w.Body.Bytes())
		})
	}
	t.Run("among other preferences", func(t *testing.T) {
		w := get(t, s, "/public/v1alpha/integrations", "Prefer", `return=minimal, code="404"; x=y`)
		if w.Code != 404 {
			t.Errorf("status %d", w.Code)
		}
	})
	t.Run("unsupported", func(t *testing.T) {
		for _, v := range []string{"code=418", "code=abc", "code=", "code=200000000000000000000"} {
			w := get(t, s, "/public/v1alpha/integrations", "Prefer", v)
			st := status(t, w)
			if w.Code != 400 || st.Code != 3 || !strings.Contains(st.Message, "400, 401, 403, 404, 409, 429, 499, 500, 501, 503, 504") {
				t.Errorf("Prefer %s: %d %s", v, w.Code, w.Body)
			}
			if f := fieldViolations(st); !slices.Equal(f, []string{"Prefer"}) {
				t.Errorf("fields %q", f)
			}
		}
		golden(t, "prefer_unsupported", get(t, s, "/public/v1alpha/integrations", "Prefer", "code=418").Body.Bytes())
	})
	t.Run("authentication comes first", func(t *testing.T) {
		w := request{target: "/public/v1alpha/integrations", header: http.Header{"Prefer": {"code=404"}}}.do(t, s)
		if w.Code != 401 {
			t.Errorf("no token with Prefer: %d, want 401", w.Code)
		}
		w = request{target: "/public/v1alpha/integrations", header: http.Header{"Prefer": {"code=404"}, "Authorization": {"Bearer denied-token"}}}.do(t, s)
		if w.Code != 403 {
			t.Errorf("denied token with Prefer: %d, want 403", w.Code)
		}
	})
	t.Run("before request validation", func(t *testing.T) {
		w := get(t, s, "/public/v1alpha/integrations?type_id=%zz", "Prefer", "code=503")
		if w.Code != 503 {
			t.Errorf("status %d, want the forced 503", w.Code)
		}
	})
}

func hasDetail(st generated.Status, typ string) bool {
	for _, d := range st.Details {
		if d.Type == typ {
			return true
		}
	}
	return false
}

func TestErrorRate(t *testing.T) {
	s := newStub(t, Config{ErrorRate: 1})
	w := get(t, s, "/public/v1alpha/integrations")
	if w.Code != 503 || status(t, w).Code != 14 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	golden(t, "unavailable", w.Body.Bytes())
	if w := (request{target: "/public/v1alpha/integrations"}).do(t, s); w.Code != 401 {
		t.Errorf("without a token: %d, want 401 (auth first)", w.Code)
	}
	// Torq's edge shape: an HTML 502, not a Status.
	edge := newStub(t, Config{ErrorRate: 1, ErrorStatus: 502})
	r := httptest.NewRequest("GET", "/public/v1alpha/integrations", nil)
	r.Header.Set("Authorization", demoAuth)
	rec := httptest.NewRecorder()
	edge.ServeHTTP(rec, r)
	if rec.Code != 502 || rec.Header().Get("Content-Type") != "text/html" || !strings.Contains(rec.Body.String(), "502 Bad Gateway") {
		t.Errorf("error status 502: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	if _, err := NewHandler(Config{ErrorStatus: 500}); err == nil {
		t.Error("ErrorStatus 500: want an error")
	}
	s = newStub(t, Config{ErrorRate: 0.5})
	s.random = func() float64 { return 0.5 }
	if w := get(t, s, "/public/v1alpha/integrations"); w.Code != 200 {
		t.Errorf("draw 0.5 at rate 0.5: %d, want 200", w.Code)
	}
	s.random = func() float64 { return 0.49 }
	if w := get(t, s, "/public/v1alpha/integrations"); w.Code != 503 {
		t.Errorf("draw 0.49 at rate 0.5: %d, want 503", w.Code)
	}
}

func TestRateLimit(t *testing.T) {
	s := newStub(t, Config{RateLimit: 2, Auth: auth.Config{Tokens: []string{"a", "b"}}})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	as := func(tok string) *httptest.ResponseRecorder {
		return request{target: "/public/v1alpha/integrations", header: http.Header{"Authorization": {"Bearer " + tok}}}.do(t, s)
	}
	for i := 0; i < 2; i++ {
		if w := as("a"); w.Code != 200 {
			t.Fatalf("request %d within the burst: %d", i, w.Code)
		}
	}
	w := as("a")
	if w.Code != 429 {
		t.Fatalf("over the limit: %d %s", w.Code, w.Body)
	}
	st := status(t, w)
	if st.Code != 8 || w.Header().Get("Retry-After") != "1" || !hasDetail(st, rpcstatus.TypeRetryInfo) {
		t.Errorf("429: %s Retry-After %q", w.Body, w.Header().Get("Retry-After"))
	}
	golden(t, "rate_limited", w.Body.Bytes())
	if w := as("b"); w.Code != 200 {
		t.Errorf("another principal shares the bucket: %d", w.Code)
	}
	now = now.Add(500 * time.Millisecond)
	if w := as("a"); w.Code != 200 {
		t.Errorf("after the bucket refilled: %d", w.Code)
	}
}

func TestLatency(t *testing.T) {
	var slept []time.Duration
	record := func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }

	s := newStub(t, Config{LatencyMin: 50 * time.Millisecond})
	s.sleep = record
	get(t, s, "/public/v1alpha/integrations")
	if w := (request{target: "/public/v1alpha/integrations"}).do(t, s); w.Code != 401 {
		t.Fatal(w.Code)
	}
	if !slices.Equal(slept, []time.Duration{50 * time.Millisecond}) {
		t.Errorf("fixed latency: slept %v, want [50ms] (once: not for the 401)", slept)
	}

	slept = nil
	s = newStub(t, Config{LatencyMin: 50 * time.Millisecond, LatencyMax: 200 * time.Millisecond})
	s.sleep = record
	for _, draw := range []float64{0, 0.5, 0.9999999999} {
		s.random = func() float64 { return draw }
		get(t, s, "/public/v1alpha/integrations")
	}
	want := []time.Duration{50 * time.Millisecond, 125 * time.Millisecond, 200 * time.Millisecond}
	for i := range want {
		if i >= len(slept) || (slept[i]-want[i]).Abs() > time.Millisecond {
			t.Errorf("range latency: slept %v, want about %v", slept, want)
			break
		}
	}

	s.sleep = func(context.Context, time.Duration) error { return context.Canceled }
	if w := get(t, s, "/public/v1alpha/integrations"); w.Code != 499 || status(t, w).Code != 1 {
		t.Errorf("canceled during latency: %d %s", w.Code, w.Body)
	}
}

// panicking is a handler below the outer layer that panics with p once it
// has written n bytes of an answer.
func panicking(p any, n int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n > 0 {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(strings.Repeat(" ", n)))
		}
		panic(p)
	})
}

func TestPanic(t *testing.T) {
	var logs syncBuffer
	s := newStub(t, Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	r := httptest.NewRequest("GET", "/public/v1alpha/integrations", nil)
	w := httptest.NewRecorder()
	s.serveLogged(w, r, panicking("boom", 0))
	if w.Code != 500 || status(t, w).Code != 13 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	golden(t, "internal", w.Body.Bytes())
	out := logs.String()
	for _, want := range []string{"msg=panic", "panic=boom", "stack=", "stub_test.go", "status=500"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	// The server stays up.
	if w := get(t, s, "/public/v1alpha/integrations"); w.Code != 200 {
		t.Errorf("after a panic: %d", w.Code)
	}
}

func TestHandlerError(t *testing.T) {
	s := newStub(t, Config{})
	r := httptest.NewRequest("GET", "/public/v1alpha/integrations", nil)
	w := httptest.NewRecorder()
	s.handlerError(w, r, rpcstatus.Errorf(rpcstatus.FailedPrecondition, "workspace is being migrated"))
	if w.Code != 400 || status(t, w).Code != 9 {
		t.Errorf("an *rpcstatus.Error: %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	s.handlerError(w, r, os.ErrPermission)
	if w.Code != 500 || status(t, w).Code != 13 || strings.Contains(w.Body.String(), "permission") {
		t.Errorf("a plain error: %d %s", w.Code, w.Body)
	}
}

func writeFixtures(t *testing.T, path string, items []generated.Integration) {
	t.Helper()
	b, err := json.Marshal(generated.IntegrationList{Integrations: items})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fixtures.json")
	items := testItems()
	writeFixtures(t, path, items[:1])
	var logs syncBuffer
	s := newStub(t, Config{FixturesFile: path, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	count := func() int {
		t.Helper()
		var list generated.IntegrationList
		if err := json.Unmarshal(get(t, s, "/public/v1alpha/integrations").Body.Bytes(), &list); err != nil {
			t.Fatal(err)
		}
		return len(list.Integrations)
	}
	if n := count(); n != 1 {
		t.Fatalf("served %d items, want the file's 1", n)
	}

	writeFixtures(t, path, items)
	if err := s.Reload(); err != nil {
		t.Fatalf("good reload: %v", err)
	}
	if n := count(); n != 3 || s.Len() != 3 {
		t.Fatalf("after reload: %d items, want 3", n)
	}
	golden(t, "list_all", get(t, s, "/public/v1alpha/integrations").Body.Bytes())
	golden(t, "list_slack", get(t, s, "/public/v1alpha/integrations?type_id=slack").Body.Bytes())

	bad := []struct{ name, body string }{
		{"bad uuid", `{"integrations":[{"id":"not-a-uuid","name":"x"}]}`},
		{"bad enum", `{"integrations":[{"id":"d7639fb8-8037-4ce2-80e9-c50bc3345c5a","sharing_data":{"direction":"sideways"}}]}`},
		{"not JSON", `{"integrations":[`},
	}
	for _, b := range bad {
		if err := os.WriteFile(path, []byte(b.body), 0o644); err != nil {
			t.Fatal(err)
		}
		err := s.Reload()
		if err == nil || !strings.Contains(err.Error(), "fixtures.json") {
			t.Errorf("%s: Reload = %v, want an error naming the file", b.name, err)
		}
		if n := count(); n != 3 {
			t.Errorf("%s: after a bad reload %d items, want the old 3", b.name, n)
		}
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err == nil {
		t.Error("reload of a missing file: want an error")
	}
	if n := count(); n != 3 {
		t.Errorf("after a failed reload %d items, want the old 3", n)
	}
}

func TestBadFixturesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("integrations:\n  - id: nope\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := NewHandler(Config{FixturesFile: path})
	if err == nil || !strings.Contains(err.Error(), "bad.yaml") || !strings.Contains(err.Error(), "id") {
		t.Fatalf("NewHandler = %v, want an error naming the file and the field", err)
	}
	if _, err := NewHandler(Config{FixturesFile: filepath.Join(t.TempDir(), "missing.json")}); err == nil {
		t.Error("a missing file: want an error")
	}
}

func TestReloadWithoutFile(t *testing.T) {
	s := newStub(t, Config{})
	if err := s.Reload(); err != nil {
		t.Errorf("Reload without a fixtures file = %v, want nil", err)
	}
	if s.Len() != 3 {
		t.Errorf("Len %d", s.Len())
	}
}

// TestConcurrentReload serves while reloading (run with -race).
func TestConcurrentReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fixtures.json")
	writeFixtures(t, path, testItems())
	s := newStub(t, Config{FixturesFile: path})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				r := httptest.NewRequest("GET", "/public/v1alpha/integrations?type_id=webhook", nil)
				r.Header.Set("Authorization", demoAuth)
				w := httptest.NewRecorder()
				s.ServeHTTP(w, r)
				if w.Code != 200 {
					t.Errorf("status %d", w.Code)
					return
				}
			}
		}()
	}
	for i := 0; i < 10; i++ {
		if err := s.Reload(); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{ValidateResponses: "loose"},
		{ErrorRate: 1.5},
		{ErrorRate: -0.1},
		{RateLimit: -1},
		{LatencyMin: -time.Second},
		{LatencyMin: 2 * time.Second, LatencyMax: time.Second},
		{Integrations: []generated.Integration{testItems()[0], testItems()[0]}},
	} {
		if _, err := NewHandler(cfg); err == nil {
			t.Errorf("NewHandler(%+v): want an error", cfg)
		}
	}
}

// TestPanicAfterWriting: a panic once the answer has started cannot change
// it; the connection is dropped (http.ErrAbortHandler) and the request is
// still logged.
func TestPanicAfterWriting(t *testing.T) {
	var logs syncBuffer
	s := newStub(t, Config{ValidateResponses: ValidateOff, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	r := httptest.NewRequest("GET", "/public/v1alpha/integrations", nil)
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", p)
		}
		for _, want := range []string{"msg=panic", "msg=request", "status=200"} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("log lacks %q:\n%s", want, logs.String())
			}
		}
	}()
	s.serveLogged(httptest.NewRecorder(), r, panicking("late", 10))
}

// TestTokenReadDeadline: a client that never finishes its token request
// body is answered or cut off, not waited for.
func TestTokenReadDeadline(t *testing.T) {
	s := newStub(t, Config{})
	s.tokenReadTimeout = 50 * time.Millisecond
	srv := httptest.NewServer(s)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "POST /v1/auth/token HTTP/1.1\r\nHost: stub\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=")
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the server still waits for the body after 5s (read %q)", b)
	}
}

// TestRequestLogLine: one line per request, written by log/slog's own
// handler, with the request's fields and no token.
func TestRequestLogLine(t *testing.T) {
	var logs syncBuffer
	s := newStub(t, Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	get(t, s, "/v1alpha/integrations?type_id=slack", "X-Request-Id", "id-7")
	line := logs.String()
	for _, want := range []string{"msg=request", "method=GET", "path=/v1alpha/integrations", "status=200", "request_id=id-7", "duration="} {
		if !strings.Contains(line, want) {
			t.Errorf("log line lacks %q: %s", want, line)
		}
	}
	if strings.Contains(line, "torq-stub-token") || strings.Count(line, "\n") > 1 {
		t.Errorf("log: %q", line)
	}
}

// TestTokensOverTime: through the whole stack, a static token keeps
// working, a denied one keeps being refused, and an issued token works until
// it expires and is refused after.
func TestTokensOverTime(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newStub(t, Config{Auth: auth.Config{
		Tokens: []string{"static-a"}, DeniedTokens: []string{"denied"}, TokenTTL: time.Minute,
		Now: func() time.Time { return now },
	}, ExpiredToken: http.StatusUnauthorized})
	issued, _ := s.auth.IssueToken(auth.DemoClientID)
	call := func(authz string) int {
		t.Helper()
		return request{target: "/v1alpha/integrations", header: http.Header{"Authorization": {authz}}}.do(t, s).Code
	}
	for range 2 {
		if c := call("Bearer static-a"); c != 200 {
			t.Fatalf("static token: %d", c)
		}
		if c := call("Bearer " + issued); c != 200 {
			t.Fatalf("issued token: %d", c)
		}
		if c := call("Bearer denied"); c != 403 {
			t.Fatalf("denied token: %d", c)
		}
	}
	now = now.Add(2 * time.Minute)
	if c := call("Bearer " + issued); c != 401 {
		t.Errorf("expired issued token: %d, want 401", c)
	}
	if c := call("Bearer static-a"); c != 200 {
		t.Errorf("static token after two minutes: %d, want 200", c)
	}
}
