package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/torqapi/integrations/api"
	"github.com/torqapi/integrations/internal/rpcstatus"
)

func TestNewClientOptions(t *testing.T) {
	t.Parallel()
	tok := api.WithBearerToken("tok-123456")
	tests := []struct {
		name    string
		opts    []api.Option
		wantErr string // "" => success
	}{
		{"bearer", []api.Option{tok}, ""},
		{"client credentials", []api.Option{api.WithClientCredentials("id", "s+/=$")}, ""},
		{"every option", []api.Option{tok, api.WithRegion(api.RegionEU), api.WithBaseURL("http://127.0.0.1:8080/public/"),
			api.WithTokenURL("http://127.0.0.1:8080/v1/auth/token"), api.WithHTTPClient(&http.Client{Timeout: time.Second}),
			api.WithUserAgent("my-app/1.0"), api.WithRetry(api.RetryPolicy{MaxAttempts: 1}), api.WithRateLimit(api.RateLimitTorq),
			strictCheck(t), api.WithTimeouts(api.Timeouts{Connect: time.Second, ResponseHeader: -1})}, ""},
		{"no credentials", nil, "no credentials: use WithClientCredentials"},
		{"both credentials", []api.Option{tok, api.WithClientCredentials("id", "secret")}, "mutually exclusive"},
		{"empty bearer", []api.Option{api.WithBearerToken(" ")}, "WithBearerToken: empty token"},
		{"bearer with newline", []api.Option{api.WithBearerToken("a\nb")}, "WithBearerToken: token contains white space"},
		{"empty client id", []api.Option{api.WithClientCredentials("", "s")}, "must not be empty"},
		{"empty client secret", []api.Option{api.WithClientCredentials("id", "")}, "must not be empty"},
		{"relative base URL", []api.Option{tok, api.WithBaseURL("/public")}, "WithBaseURL: scheme must be http or https"},
		{"ftp base URL", []api.Option{tok, api.WithBaseURL("ftp://example.com/public")}, "scheme must be http or https"},
		{"base URL without host", []api.Option{tok, api.WithBaseURL("http:///public")}, "no host"},
		{"base URL with query", []api.Option{tok, api.WithBaseURL("https://api.torq.io/public?x=1")}, "must not have a query"},
		{"base URL with fragment", []api.Option{tok, api.WithBaseURL("https://api.torq.io/public#x")}, "must not have a fragment"},
		{"base URL with user info", []api.Option{tok, api.WithBaseURL("https://u:p@api.torq.io/public")}, "must not carry user info"},
		{"bad token URL", []api.Option{tok, api.WithTokenURL("auth.torq.io/v1/auth/token")}, "WithTokenURL"},
		{"unknown region", []api.Option{tok, api.WithRegion("apac")}, `unknown region "apac"`},
		{"nil HTTP client", []api.Option{tok, api.WithHTTPClient(nil)}, "nil *http.Client"},
		{"empty user agent", []api.Option{tok, api.WithUserAgent("")}, "WithUserAgent"},
		{"negative attempts", []api.Option{tok, api.WithRetry(api.RetryPolicy{MaxAttempts: -1})}, "negative"},
		{"backoff above max", []api.Option{tok, api.WithRetry(api.RetryPolicy{InitialBackoff: 3 * time.Second})}, "above MaxBackoff"},
		{"nil response check", []api.Option{tok, api.WithResponseCheck(nil)}, "WithResponseCheck: nil check"},
		{"zero rate", []api.Option{tok, api.WithRateLimit(0)}, "rate must be positive"},
		{"NaN rate", []api.Option{tok, api.WithRateLimit(math.NaN())}, "rate must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := api.NewClient(tt.opts...)
			if tt.wantErr == "" {
				if err != nil || c == nil {
					t.Fatalf("NewClient: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewClient error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// roundTripFunc answers requests without a network.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRegionURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		region          api.Region
		wantAPI, wantTk string
	}{
		{api.RegionUS, "https://api.torq.io/public/v1alpha/integrations?type_id=slack", "https://auth.torq.io/v1/auth/token"},
		{api.RegionEU, "https://api.eu.torq.io/public/v1alpha/integrations?type_id=slack", "https://auth.eu.torq.io/v1/auth/token"},
	}
	for _, tt := range tests {
		t.Run(string(tt.region), func(t *testing.T) {
			t.Parallel()
			var seen []string
			rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				seen = append(seen, r.Method+" "+r.URL.String()+" ua="+r.Header.Get("User-Agent"))
				body := oneIntegration
				if strings.HasSuffix(r.URL.Path, "/token") {
					body = `{"access_token":"at-1","token_type":"Bearer","expires_in":3600}`
				}
				return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
					Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
			})
			c, err := api.NewClient(api.WithRegion(tt.region), api.WithClientCredentials("id", "secret"),
				api.WithHTTPClient(&http.Client{Transport: rt}), api.WithUserAgent("ua-test"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{TypeID: "slack"}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{}); err != nil {
				t.Fatal(err)
			}
			// No TypeID: no query at all (type_id= is refused by the API).
			want := []string{"POST " + tt.wantTk + " ua=", "GET " + tt.wantAPI + " ua=ua-test",
				"GET " + strings.TrimSuffix(tt.wantAPI, "?type_id=slack") + " ua=ua-test"}
			if fmt.Sprint(seen) != fmt.Sprint(want) {
				t.Errorf("requests = %q, want %q", seen, want)
			}
		})
	}
}

func TestErrorDecoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		wantStatus int
		wantCode   api.Code
		wantMsg    string
		check      func(t *testing.T, e *api.Error)
	}{
		{
			name: "status with BadRequest and ErrorInfo", status: 400,
			body: mustStatus(t, rpcstatus.Errorf(rpcstatus.InvalidArgument, "type_id: bad").WithDetails(
				rpcstatus.BadRequest(rpcstatus.FieldViolation{Field: "type_id", Description: "bad"}),
				rpcstatus.ErrorInfo("BAD_TYPE", "torq.io", map[string]string{"k": "v"}))),
			wantStatus: 400, wantCode: api.CodeInvalidArgument, wantMsg: "type_id: bad",
			check: func(t *testing.T, e *api.Error) {
				v, ok := e.BadRequest()
				if !ok || len(v) != 1 || v[0] != (api.FieldViolation{Field: "type_id", Description: "bad"}) {
					t.Errorf("BadRequest() = %v, %v", v, ok)
				}
				info, ok := e.ErrorInfo()
				if !ok || info.Reason != "BAD_TYPE" || info.Domain != "torq.io" || info.Metadata["k"] != "v" {
					t.Errorf("ErrorInfo() = %+v, %v", info, ok)
				}
				if _, ok := e.RetryInfo(); ok {
					t.Error("RetryInfo() ok without a RetryInfo detail")
				}
			},
		},
		{
			name: "retry info", status: 429,
			body:       mustStatus(t, rpcstatus.Errorf(rpcstatus.ResourceExhausted, "slow down").WithDetails(rpcstatus.RetryInfo(1500*time.Millisecond))),
			wantStatus: 429, wantCode: api.CodeResourceExhausted, wantMsg: "slow down",
			check: func(t *testing.T, e *api.Error) {
				if d, ok := e.RetryInfo(); !ok || d != 1500*time.Millisecond {
					t.Errorf("RetryInfo() = %v, %v", d, ok)
				}
				if _, ok := e.BadRequest(); ok {
					t.Error("BadRequest() ok without a BadRequest detail")
				}
			},
		},
		{
			name: "status without code takes it from HTTP", status: 404, body: `{"message":"no such thing"}`,
			wantStatus: 404, wantCode: api.CodeNotFound, wantMsg: "no such thing",
		},
		{
			name: "HTML page from a proxy: 502 is UNAVAILABLE", status: 502, header: map[string]string{"Content-Type": "text/html"},
			body:       "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>",
			wantStatus: 502, wantCode: api.CodeUnavailable, wantMsg: "502 Bad Gateway",
		},
		{
			name: "HTML without title", status: 504, header: map[string]string{"Content-Type": "text/html"},
			body:       "<html><body><p>Upstream\n timed   out &amp; gave up</p></body></html>",
			wantStatus: 504, wantCode: api.CodeDeadlineExceeded, wantMsg: "Upstream timed out & gave up",
		},
		{
			name: "plain text, unmapped status", status: 418, header: map[string]string{"Content-Type": "text/plain"},
			body: "short and stout", wantStatus: 418, wantCode: api.CodeUnknown, wantMsg: "short and stout",
		},
		{
			name: "empty body", status: 500, header: map[string]string{"Content-Type": "text/plain"},
			wantStatus: 500, wantCode: api.CodeInternal, wantMsg: "Internal Server Error",
		},
		{
			name: "long snippet is cut", status: 500, header: map[string]string{"Content-Type": "text/plain"},
			body: strings.Repeat("x", 500), wantStatus: 500, wantCode: api.CodeInternal, wantMsg: strings.Repeat("x", 120) + "...",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeTorq(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Content-Type", "application/json")
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}, nil)
			c := f.client(t, newFakeClock(), api.WithBearerToken("tok-123456"), api.WithRetry(api.RetryPolicy{MaxAttempts: 1}))
			_, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
			var e *api.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *api.Error", err, err)
			}
			if e.HTTPStatus != tt.wantStatus || e.Code != tt.wantCode || e.Message != tt.wantMsg {
				t.Errorf("got %d %v %q, want %d %v %q", e.HTTPStatus, e.Code, e.Message, tt.wantStatus, tt.wantCode, tt.wantMsg)
			}
			want := fmt.Sprintf("torq: %d %s: %s", tt.wantStatus, tt.wantCode, tt.wantMsg)
			if e.Error() != want {
				t.Errorf("Error() = %q, want %q", e.Error(), want)
			}
			if string(e.Body) != tt.body {
				t.Errorf("Body = %q, want %q", e.Body, tt.body)
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

func mustStatus(t *testing.T, e *rpcstatus.Error) string {
	t.Helper()
	b, err := rpcstatus.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCodeString(t *testing.T) {
	t.Parallel()
	for c, want := range map[api.Code]string{api.CodeOK: "OK", api.CodeCanceled: "CANCELLED", api.CodePermissionDenied: "PERMISSION_DENIED",
		api.CodeUnauthenticated: "UNAUTHENTICATED", api.Code(42): "CODE(42)"} {
		if got := c.String(); got != want {
			t.Errorf("Code(%d).String() = %q, want %q", int32(c), got, want)
		}
	}
}

func TestResponseValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		answer    answer
		wantField string // "" => no field, only a reason
		wantIn    string
	}{
		{"enum value outside the contract", func(w http.ResponseWriter, _ *http.Request, _ int) {
			writeJSON(w, 200, `{"integrations":[{"id":"d7639fb8-8037-4ce2-80e9-c50bc3345c5a","sharing_data":{"direction":"sideways"}}]}`)
		}, "integrations.0.sharing_data.direction", "value is not one of the allowed values"},
		{"wrong type", func(w http.ResponseWriter, _ *http.Request, _ int) {
			writeJSON(w, 200, `{"integrations":[{"id":"d7639fb8-8037-4ce2-80e9-c50bc3345c5a"},{"display_name":7}]}`)
		}, "integrations.1.display_name", "string"},
		{"not a uuid", func(w http.ResponseWriter, _ *http.Request, _ int) {
			writeJSON(w, 200, `{"integrations":[{"id":"not-a-uuid"}]}`)
		}, "integrations.0.id", "uuid"},
		{"error body that is not a Status", func(w http.ResponseWriter, _ *http.Request, _ int) {
			writeJSON(w, 403, `{"code":"seven","message":"no"}`)
		}, "code", "integer"},
		{"success that is not JSON", func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, "<html>hi</html>")
		}, "", "Content-Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeTorq(t, tt.answer, nil)
			c := f.client(t, newFakeClock(), api.WithBearerToken("tok-123456"), strictCheck(t))
			_, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
			var ce *api.ContractError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T) is not a *api.ContractError", err, err)
			}
			if ce.Field != tt.wantField || !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("got field %q, error %q; want field %q and %q in it", ce.Field, err, tt.wantField, tt.wantIn)
			}
			if tt.wantField != "" && !strings.Contains(err.Error(), "field "+tt.wantField+":") {
				t.Errorf("error %q does not name field %q", err, tt.wantField)
			}
			if apiCalls, _, _ := f.counts(); apiCalls != 1 {
				t.Errorf("%d calls, want 1 (a contract violation is not retried)", apiCalls)
			}
		})
	}

	t.Run("the same enum violation passes without validation", func(t *testing.T) {
		t.Parallel()
		f := newFakeTorq(t, tests[0].answer, nil)
		c := f.client(t, newFakeClock(), api.WithBearerToken("tok-123456"))
		list, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
		if err != nil || len(list) != 1 || list[0].SharingData.Direction != "sideways" {
			t.Fatalf("got %v, %v", list, err)
		}
	})
	t.Run("valid answers and HTML error pages pass validation", func(t *testing.T) {
		t.Parallel()
		f := newFakeTorq(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusBadGateway)
				_, _ = io.WriteString(w, "<title>502 Bad Gateway</title>")
				return
			}
			listOK(w, r, n)
		}, nil)
		c := f.client(t, newFakeClock(), api.WithBearerToken("tok-123456"), strictCheck(t))
		list, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
		if err != nil || len(list) != 1 {
			t.Fatalf("got %v, %v", list, err)
		}
	})
}

// hugeBody writes n bytes of a JSON document that never ends.
func hugeBody(status int, n int) answer {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"integrations":[`)
		chunk := []byte(strings.Repeat(" ", 64<<10))
		for written := 0; written < n; written += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
}

func TestHugeBody(t *testing.T) {
	t.Parallel()
	for _, validate := range []bool{false, true} {
		t.Run(fmt.Sprintf("validation=%v", validate), func(t *testing.T) {
			t.Parallel()
			f := newFakeTorq(t, hugeBody(200, api.MaxResponseBodyBytes+1<<20), nil)
			opts := []api.Option{api.WithBearerToken("tok-123456")}
			if validate {
				opts = append(opts, strictCheck(t))
			}
			_, err := f.client(t, newFakeClock(), opts...).ListIntegrations(context.Background(), api.ListIntegrationsParams{})
			if !errors.Is(err, api.ErrResponseTooLarge) || !strings.Contains(err.Error(), "limit 32 MiB") {
				t.Fatalf("error = %v, want ErrResponseTooLarge naming the limit", err)
			}
		})
	}
	t.Run("error body is cut at the limit", func(t *testing.T) {
		t.Parallel()
		f := newFakeTorq(t, hugeBody(500, 4<<20), nil)
		c := f.client(t, newFakeClock(), api.WithBearerToken("tok-123456"), api.WithRetry(api.RetryPolicy{MaxAttempts: 1}))
		_, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
		var e *api.Error
		if !errors.As(err, &e) || e.Code != api.CodeInternal || len(e.Body) != api.MaxErrorBodyBytes {
			t.Fatalf("error = %v, body %d bytes; want INTERNAL with a %d-byte body", err, len(e.Body), api.MaxErrorBodyBytes)
		}
	})
}

func redirect(w http.ResponseWriter, r *http.Request, _ int) {
	http.Redirect(w, r, "/login?next=/public/v1alpha/integrations", http.StatusFound)
}

func TestRedirectIsAnExpiredToken(t *testing.T) {
	t.Parallel()
	t.Run("static token", func(t *testing.T) {
		t.Parallel()
		f := newFakeTorq(t, redirect, nil)
		_, err := f.client(t, newFakeClock(), api.WithBearerToken("tok-123456")).ListIntegrations(context.Background(), api.ListIntegrationsParams{})
		var e *api.Error
		if !errors.As(err, &e) || e.Code != api.CodeUnauthenticated || e.HTTPStatus != http.StatusFound {
			t.Fatalf("error = %v, want UNAUTHENTICATED with HTTP 302", err)
		}
		if apiCalls, _, other := f.counts(); apiCalls != 1 || other != 0 {
			t.Errorf("%d API calls and %d other requests; want 1 and 0 (the redirect is not followed)", apiCalls, other)
		}
	})
	t.Run("client credentials refresh once", func(t *testing.T) {
		t.Parallel()
		f := newFakeTorq(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				redirect(w, r, n)
				return
			}
			listOK(w, r, n)
		}, tokenOK(func(n int) string { return fmt.Sprintf("at-%d", n) }, 3600))
		list, err := f.client(t, newFakeClock(), api.WithClientCredentials("id", "secret")).ListIntegrations(context.Background(), api.ListIntegrationsParams{})
		if err != nil || len(list) != 1 {
			t.Fatalf("got %v, %v", list, err)
		}
		apiCalls, tokenCalls, other := f.counts()
		if apiCalls != 2 || tokenCalls != 2 || other != 0 {
			t.Errorf("api %d, token %d, other %d; want 2, 2, 0", apiCalls, tokenCalls, other)
		}
		if fmt.Sprint(f.auths) != "[Bearer at-1 Bearer at-2]" {
			t.Errorf("Authorization headers = %q", f.auths)
		}
	})
	t.Run("client credentials, still redirected", func(t *testing.T) {
		t.Parallel()
		f := newFakeTorq(t, redirect, tokenOK(func(n int) string { return fmt.Sprintf("at-%d", n) }, 3600))
		_, err := f.client(t, newFakeClock(), api.WithClientCredentials("id", "secret")).ListIntegrations(context.Background(), api.ListIntegrationsParams{})
		var e *api.Error
		if !errors.As(err, &e) || e.Code != api.CodeUnauthenticated {
			t.Fatalf("error = %v, want UNAUTHENTICATED", err)
		}
		if apiCalls, tokenCalls, _ := f.counts(); apiCalls != 2 || tokenCalls != 2 {
			t.Errorf("api %d, token %d; want 2, 2 (one renewal, no loop)", apiCalls, tokenCalls)
		}
	})
}

func TestTokenCache(t *testing.T) {
	t.Parallel()
	unauthenticated := mustStatus(t, rpcstatus.Errorf(rpcstatus.Unauthenticated, "Invalid bearer token."))
	t.Run("cached, renewed before expiry", func(t *testing.T) {
		t.Parallel()
		f := newFakeTorq(t, listOK, tokenOK(func(n int) string { return fmt.Sprintf("at-%d", n) }, 60))
		clk := newFakeClock()
		c := f.client(t, clk, api.WithClientCredentials("id", "secret"))
		ctx := context.Background()
		for _, step := range []time.Duration{0, 10 * time.Second, 39 * time.Second, 2 * time.Second, 0} {
			clk.Advance(step)
			if _, err := c.ListIntegrations(ctx, api.ListIntegrationsParams{}); err != nil {
				t.Fatal(err)
			}
		}
		// at 0, 10s, 49s: at-1; at 51s (less than 10s left): at-2; at 51s: at-2.
		if want := "[Bearer at-1 Bearer at-1 Bearer at-1 Bearer at-2 Bearer at-2]"; fmt.Sprint(f.auths) != want {
			t.Errorf("Authorization headers = %v, want %v", f.auths, want)
		}
	})
	t.Run("401 on a cached token renews it once", func(t *testing.T) {
		t.Parallel()
		f := newFakeTorq(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if r.Header.Get("Authorization") == "Bearer at-1" {
				writeJSON(w, 401, unauthenticated)
				return
			}
			listOK(w, r, n)
		}, tokenOK(func(n int) string { return fmt.Sprintf("at-%d", n) }, 3600))
		c := f.client(t, newFakeClock(), api.WithClientCredentials("id", "secret"))
		if _, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{}); err != nil {
			t.Fatal(err)
		}
		if apiCalls, tokenCalls, _ := f.counts(); apiCalls != 2 || tokenCalls != 2 {
			t.Errorf("api %d, token %d; want 2, 2", apiCalls, tokenCalls)
		}
	})
	t.Run("persistent 401 is returned after one renewal", func(t *testing.T) {
		t.Parallel()
		f := newFakeTorq(t, func(w http.ResponseWriter, _ *http.Request, _ int) { writeJSON(w, 401, unauthenticated) },
			tokenOK(func(n int) string { return fmt.Sprintf("at-%d", n) }, 3600))
		_, err := f.client(t, newFakeClock(), api.WithClientCredentials("id", "secret")).ListIntegrations(context.Background(), api.ListIntegrationsParams{})
		var e *api.Error
		if !errors.As(err, &e) || e.Code != api.CodeUnauthenticated || e.HTTPStatus != 401 || e.Message != "Invalid bearer token." {
			t.Fatalf("error = %v", err)
		}
		if apiCalls, tokenCalls, _ := f.counts(); apiCalls != 2 || tokenCalls != 2 {
			t.Errorf("api %d, token %d; want 2, 2", apiCalls, tokenCalls)
		}
	})
	t.Run("token endpoint refuses the credentials", func(t *testing.T) {
		t.Parallel()
		f := newFakeTorq(t, listOK, func(w http.ResponseWriter, _ *http.Request, _ int) {
			writeJSON(w, 401, `{"error":"invalid_client","error_description":"client authentication failed"}`)
		})
		_, err := f.client(t, newFakeClock(), api.WithClientCredentials("id", "secret")).ListIntegrations(context.Background(), api.ListIntegrationsParams{})
		var e *api.Error
		if !errors.As(err, &e) || e.Code != api.CodeUnauthenticated || e.HTTPStatus != 401 ||
			e.Message != "token endpoint: invalid_client: client authentication failed" {
			t.Fatalf("error = %v", err)
		}
		if apiCalls, tokenCalls, _ := f.counts(); apiCalls != 0 || tokenCalls != 1 {
			t.Errorf("api %d, token %d; want 0, 1", apiCalls, tokenCalls)
		}
	})
}

func TestRetries(t *testing.T) {
	t.Parallel()
	unavailable := mustStatus(t, rpcstatus.Errorf(rpcstatus.Unavailable, "try later"))
	fail := func(times, status int, header, body string) answer {
		return func(w http.ResponseWriter, r *http.Request, n int) {
			if n > times {
				listOK(w, r, n)
				return
			}
			if header != "" {
				k, v, _ := strings.Cut(header, ": ")
				w.Header().Set(k, v)
			}
			writeJSON(w, status, body)
		}
	}
	httpDate := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name      string
		answer    answer
		policy    api.RetryPolicy
		wantCalls int
		wantErr   api.Code // 0 => success
		wantSlept []time.Duration
	}{
		{"503 then success, max jitter", fail(2, 503, "", unavailable), api.RetryPolicy{}, 3, 0,
			[]time.Duration{100 * time.Millisecond, 200 * time.Millisecond}},
		{"backoff capped at MaxBackoff", fail(4, 503, "", unavailable), api.RetryPolicy{MaxAttempts: 5, InitialBackoff: time.Second, MaxBackoff: 2 * time.Second}, 5, 0,
			[]time.Duration{time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second}},
		{"gives up after MaxAttempts", fail(9, 503, "", unavailable), api.RetryPolicy{}, 3, api.CodeUnavailable,
			[]time.Duration{100 * time.Millisecond, 200 * time.Millisecond}},
		{"Retry-After seconds", fail(1, 429, "Retry-After: 3", `{"code":8,"message":"slow","details":[]}`), api.RetryPolicy{}, 2, 0,
			[]time.Duration{3 * time.Second}},
		{"Retry-After HTTP date", fail(1, 503, "Retry-After: "+httpDate, unavailable), api.RetryPolicy{MaxRetryAfter: 2 * time.Minute}, 2, 0, nil},
		{"RetryInfo", fail(1, 429, "", mustStatus(t, rpcstatus.Errorf(rpcstatus.ResourceExhausted, "slow").WithDetails(rpcstatus.RetryInfo(1500*time.Millisecond)))),
			api.RetryPolicy{}, 2, 0, []time.Duration{1500 * time.Millisecond}},
		{"Retry-After above MaxRetryAfter is not waited for", fail(1, 429, "Retry-After: 120", `{"code":8,"message":"slow","details":[]}`), api.RetryPolicy{}, 1,
			api.CodeResourceExhausted, nil},
		{"502 and 504 retried", func(w http.ResponseWriter, r *http.Request, n int) {
			switch n {
			case 1:
				writeJSON(w, 502, "{}")
			case 2:
				writeJSON(w, 504, `{"code":4,"message":"deadline","details":[]}`)
			default:
				listOK(w, r, n)
			}
		}, api.RetryPolicy{}, 3, 0, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}},
		{"500 not retried", fail(1, 500, "", `{"code":13,"message":"boom","details":[]}`), api.RetryPolicy{}, 1, api.CodeInternal, nil},
		{"403 not retried", fail(1, 403, "", `{"code":7,"message":"no","details":[]}`), api.RetryPolicy{}, 1, api.CodePermissionDenied, nil},
		{"MaxAttempts 1 turns retries off", fail(1, 503, "", unavailable), api.RetryPolicy{MaxAttempts: 1}, 1, api.CodeUnavailable, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeTorq(t, tt.answer, nil)
			clk := newFakeClock()
			maxJitter := func(n int64) int64 { return n - 1 }
			c := f.client(t, clk, api.WithBearerToken("tok-123456"), api.WithRetry(tt.policy), api.WithRand(maxJitter))
			_, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
			if tt.wantErr == 0 && err != nil {
				t.Fatalf("error = %v", err)
			}
			var e *api.Error
			if tt.wantErr != 0 && (!errors.As(err, &e) || e.Code != tt.wantErr) {
				t.Fatalf("error = %v, want code %v", err, tt.wantErr)
			}
			if apiCalls, _, _ := f.counts(); apiCalls != tt.wantCalls {
				t.Errorf("%d calls, want %d", apiCalls, tt.wantCalls)
			}
			slept := clk.Slept()
			if tt.name == "Retry-After HTTP date" {
				// One wait of at most 90s (the date was set when the test began).
				if len(slept) != 1 || slept[0] < 60*time.Second || slept[0] > 91*time.Second {
					t.Errorf("slept %v, want one wait of about 90s", slept)
				}
				return
			}
			if fmt.Sprint(slept) != fmt.Sprint(tt.wantSlept) {
				t.Errorf("slept %v, want %v", slept, tt.wantSlept)
			}
		})
	}
}

func TestRetryTransportErrors(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if calls.Add(1) < 3 {
			return nil, errors.New("connection reset by peer")
		}
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(oneIntegration)), Request: r}, nil
	})
	clk := newFakeClock()
	c, err := api.NewClient(api.WithBearerToken("tok-123456"), api.WithHTTPClient(&http.Client{Transport: rt}), api.WithSleep(clk.Sleep), api.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{}); err != nil {
		t.Fatalf("error = %v", err)
	}
	if calls.Load() != 3 || len(clk.Slept()) != 2 {
		t.Errorf("%d calls, %d waits; want 3, 2", calls.Load(), len(clk.Slept()))
	}
}

func TestRetryStopsAtTheDeadline(t *testing.T) {
	t.Parallel()
	f := newFakeTorq(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Retry-After", "5")
		writeJSON(w, 503, `{"code":14,"message":"later","details":[]}`)
	}, nil)
	clk := newFakeClock()
	c := f.client(t, clk, api.WithBearerToken("tok-123456"))
	ctx, cancel := context.WithDeadline(context.Background(), clk.Now().Add(2*time.Second))
	defer cancel()
	_, err := c.ListIntegrations(ctx, api.ListIntegrationsParams{})
	var e *api.Error
	if !errors.As(err, &e) || e.Code != api.CodeUnavailable {
		t.Fatalf("error = %v, want the last answer, UNAVAILABLE", err)
	}
	if apiCalls, _, _ := f.counts(); apiCalls != 1 || len(clk.Slept()) != 0 {
		t.Errorf("%d calls, waits %v; want 1 call and no wait past the deadline", apiCalls, clk.Slept())
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	t.Parallel()
	f := newFakeTorq(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		writeJSON(w, 503, `{"code":14,"message":"later","details":[]}`)
	}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	waited := make(chan time.Duration, 1)
	sleep := func(ctx context.Context, d time.Duration) error {
		waited <- d
		cancel() // the caller gives up while the client waits
		<-ctx.Done()
		return ctx.Err()
	}
	c, err := api.NewClient(api.WithBaseURL(f.base()), api.WithBearerToken("tok-123456"), api.WithSleep(sleep))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListIntegrations(ctx, api.ListIntegrationsParams{})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "HTTP 503") {
		t.Fatalf("error = %v, want context.Canceled naming the last answer", err)
	}
	if apiCalls, _, _ := f.counts(); apiCalls != 1 || len(waited) != 1 {
		t.Errorf("%d calls, %d waits; want 1, 1", apiCalls, len(waited))
	}
}

// countingLimiter lets every request through and counts them.
type countingLimiter struct{ waits atomic.Int32 }

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.waits.Add(1)
	return ctx.Err()
}

func TestRateLimiterWaitsBeforeEveryAttempt(t *testing.T) {
	t.Parallel()
	f := newFakeTorq(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			writeJSON(w, 429, `{"code":8,"message":"slow","details":[]}`)
			return
		}
		listOK(w, r, n)
	}, nil)
	lim := &countingLimiter{}
	c := f.client(t, newFakeClock(), api.WithBearerToken("tok-123456"), api.WithLimiter(lim))
	for range 3 {
		if _, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{}); err != nil {
			t.Fatal(err)
		}
	}
	if apiCalls, _, _ := f.counts(); apiCalls != 4 || lim.waits.Load() != 4 {
		t.Errorf("%d calls, %d waits; want 4, 4 (three calls, one retried)", apiCalls, lim.waits.Load())
	}
}

func TestExplicitURLsWinOverRegion(t *testing.T) {
	t.Parallel()
	f := newFakeTorq(t, listOK, tokenOK(func(int) string { return "at-1" }, 3600))
	// WithRegion after WithBaseURL/WithTokenURL does not undo them.
	c, err := api.NewClient(api.WithBaseURL(f.base()), api.WithTokenURL(f.tokenURL()), api.WithRegion(api.RegionEU),
		api.WithClientCredentials("id", "secret"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{}); err != nil {
		t.Fatal(err)
	}
	if apiCalls, tokenCalls, _ := f.counts(); apiCalls != 1 || tokenCalls != 1 {
		t.Errorf("api %d, token %d; want 1, 1", apiCalls, tokenCalls)
	}
}

// failingLimiter refuses to wait, as rate.Limiter does when the context's
// deadline comes before the next slot.
type failingLimiter struct{ waits atomic.Int32 }

func (l *failingLimiter) Wait(context.Context) error {
	l.waits.Add(1)
	return errors.New("rate: Wait(n=1) would exceed context deadline")
}

func TestRateLimiterRefusalIsNotRetried(t *testing.T) {
	t.Parallel()
	f := newFakeTorq(t, listOK, nil)
	lim := &failingLimiter{}
	_, err := f.client(t, newFakeClock(), api.WithBearerToken("tok-123456"), api.WithLimiter(lim)).
		ListIntegrations(context.Background(), api.ListIntegrationsParams{})
	if err == nil || !strings.HasPrefix(err.Error(), "torq: rate limit: ") {
		t.Fatalf("error = %v", err)
	}
	if apiCalls, _, _ := f.counts(); apiCalls != 0 || lim.waits.Load() != 1 {
		t.Errorf("%d calls, %d waits; want 0, 1", apiCalls, lim.waits.Load())
	}
}

func TestSmallMaxRetryAfterKeepsBackoff(t *testing.T) {
	t.Parallel()
	f := newFakeTorq(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			writeJSON(w, 503, `{"code":14,"message":"later","details":[]}`)
			return
		}
		listOK(w, r, n)
	}, nil)
	clk := newFakeClock()
	c := f.client(t, clk, api.WithBearerToken("tok-123456"), api.WithRand(func(n int64) int64 { return n - 1 }),
		api.WithRetry(api.RetryPolicy{InitialBackoff: time.Second, MaxRetryAfter: time.Millisecond}))
	if _, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(clk.Slept()) != "[1s]" {
		t.Errorf("slept %v, want [1s]: MaxRetryAfter bounds server waits only", clk.Slept())
	}
}

func TestTransportErrorNotRetriedPastTheDeadline(t *testing.T) {
	t.Parallel()
	rt := roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("connection reset by peer") })
	deadline := time.Now().Add(5 * time.Second)
	clk := &fakeClock{now: deadline.Add(-50 * time.Millisecond)} // 50ms left, the backoff is 100ms
	c, err := api.NewClient(api.WithBearerToken("tok-123456"), api.WithHTTPClient(&http.Client{Transport: rt}),
		api.WithSleep(clk.Sleep), api.WithClock(clk.Now), api.WithRand(func(n int64) int64 { return n - 1 }))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	_, err = c.ListIntegrations(ctx, api.ListIntegrationsParams{})
	if err == nil || !strings.Contains(err.Error(), "gave up after attempt 1") || !strings.Contains(err.Error(), "connection reset by peer") {
		t.Fatalf("error = %v, want the last transport error, wrapped", err)
	}
	if len(clk.Slept()) != 0 {
		t.Errorf("slept %v past the deadline", clk.Slept())
	}
}

func TestCancelInFlightIsNotRetried(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		cancel() // the caller gives up while the request is on the wire
		return nil, r.Context().Err()
	})
	c, err := api.NewClient(api.WithBearerToken("tok-123456"), api.WithHTTPClient(&http.Client{Transport: rt}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListIntegrations(ctx, api.ListIntegrationsParams{})
	if !errors.Is(err, context.Canceled) || calls.Load() != 1 {
		t.Fatalf("error = %v after %d calls, want context.Canceled after 1", err, calls.Load())
	}
}
