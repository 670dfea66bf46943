package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/torqapi/integrations/api"
	"github.com/torqapi/integrations/api/apitest"
	"github.com/torqapi/integrations/internal/auth"
	"github.com/torqapi/integrations/internal/fixtures"
)

// These tests run the client against the real stub, in-process.

// preferTransport asks the stub to force an answer: `Prefer: code=NNN` on
// every API request.
type preferTransport struct {
	code int
	next http.RoundTripper
}

func (p preferTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Prefer", "code="+strconv.Itoa(p.code))
	return p.next.RoundTrip(r)
}

func prefer(code int) api.Option {
	return api.WithHTTPClient(&http.Client{Transport: preferTransport{code: code, next: http.DefaultTransport}})
}

// apiRequests counts the API requests (not token requests) srv received.
func apiRequests(srv *apitest.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Path == "/public/v1alpha/integrations" {
			n++
		}
	}
	return n
}

func tokenRequests(srv *apitest.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Path == "/v1/auth/token" {
			n++
		}
	}
	return n
}

func TestStubList(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t)
	c := srv.Client(strictCheck(t))
	ctx := context.Background()
	all, err := c.ListIntegrations(ctx, api.ListIntegrationsParams{})
	if err != nil {
		t.Fatal(err)
	}
	want := fixtures.Default()
	if len(all) != len(want) {
		t.Fatalf("%d integrations, want the %d of the default workspace", len(all), len(want))
	}
	for i := range want {
		if all[i].ID != want[i].ID || all[i].Name != want[i].Name || !all[i].CreatedAt.Equal(want[i].CreatedAt) {
			t.Errorf("integration %d = %+v, want %+v", i, all[i], want[i])
		}
	}

	t.Run("filter", func(t *testing.T) {
		t.Parallel()
		for _, typeID := range []string{"webhook", "slack", "no_such_type"} {
			got, err := c.ListIntegrations(ctx, api.ListIntegrationsParams{TypeID: typeID})
			if err != nil {
				t.Fatal(err)
			}
			var wantIDs, gotIDs []uuid.UUID
			for _, it := range want {
				if it.TypeID == typeID {
					wantIDs = append(wantIDs, it.ID)
				}
			}
			for _, it := range got {
				gotIDs = append(gotIDs, it.ID)
			}
			if got == nil || !slices.Equal(gotIDs, wantIDs) {
				t.Errorf("type_id=%s: got %v, want %v (non-nil)", typeID, gotIDs, wantIDs)
			}
		}
	})
}

func TestStubEveryErrorCode(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t)
	tests := []struct {
		status  int
		code    api.Code
		message string
	}{
		{400, api.CodeInvalidArgument, "type_id: value is not valid"},
		{401, api.CodeUnauthenticated, auth.MsgUnauthenticated},
		{403, api.CodePermissionDenied, auth.MsgPermissionDenied},
		{404, api.CodeNotFound, "Not Found"},
		{409, api.CodeAborted, "The request was aborted by a concurrent change; retry it."},
		{429, api.CodeResourceExhausted, "Too many requests, retry later."},
		{499, api.CodeCanceled, "context canceled"},
		{500, api.CodeInternal, "Internal error."},
		{501, api.CodeUnimplemented, "method ListIntegrations not implemented"},
		{503, api.CodeUnavailable, "The service is currently unavailable, retry later."},
		{504, api.CodeDeadlineExceeded, "context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			t.Parallel()
			c, err := api.NewClient(api.WithBaseURL(srv.URL), api.WithBearerToken(srv.Token), prefer(tt.status),
				api.WithRetry(api.RetryPolicy{MaxAttempts: 1}), strictCheck(t))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
			var e *api.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *api.Error", err, err)
			}
			if e.HTTPStatus != tt.status || e.Code != tt.code || e.Message != tt.message {
				t.Errorf("got %d %v %q, want %d %v %q", e.HTTPStatus, e.Code, e.Message, tt.status, tt.code, tt.message)
			}
			if want := fmt.Sprintf("torq: %d %s: %s", tt.status, tt.code, tt.message); err.Error() != want {
				t.Errorf("Error() = %q, want %q", err, want)
			}
			switch tt.code {
			case api.CodeInvalidArgument:
				if v, ok := e.BadRequest(); !ok || len(v) != 1 || v[0].Field != "type_id" {
					t.Errorf("BadRequest() = %v, %v", v, ok)
				}
			case api.CodeResourceExhausted:
				if d, ok := e.RetryInfo(); !ok || d != time.Second || e.Header.Get("Retry-After") != "1" {
					t.Errorf("RetryInfo() = %v, %v; Retry-After %q", d, ok, e.Header.Get("Retry-After"))
				}
			case api.CodeUnauthenticated:
				if e.Header.Get("WWW-Authenticate") == "" {
					t.Error("no WWW-Authenticate header")
				}
			}
			if apiCalls := apiRequests(srv); apiCalls < 1 {
				t.Errorf("no request recorded")
			}
		})
	}
}

func TestStubClientCredentialsSecretNeedsEscaping(t *testing.T) {
	t.Parallel()
	for _, secret := range []string{"a+b/c=d$e", "+/=$", "p@ss word%20&x"} {
		t.Run(secret, func(t *testing.T) {
			t.Parallel()
			srv := apitest.NewServer(t, apitest.WithClientID("id:with+plus"), apitest.WithClientSecret(secret))
			if _, err := srv.Client().ListIntegrations(context.Background(), api.ListIntegrationsParams{}); err != nil {
				t.Fatal(err)
			}
			// The wrong secret is refused by the token endpoint.
			bad, err := api.NewClient(api.WithBaseURL(srv.URL), api.WithTokenURL(srv.TokenURL), api.WithClientCredentials(srv.ClientID, secret+"x"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = bad.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
			var e *api.Error
			if !errors.As(err, &e) || e.Code != api.CodeUnauthenticated || e.HTTPStatus != http.StatusUnauthorized {
				t.Fatalf("wrong secret: error = %v, want UNAUTHENTICATED from the token endpoint", err)
			}
		})
	}
}

// stubClock is a clock shared by the stub and the client.
type stubClock struct{ now atomic.Int64 }

func (c *stubClock) Now() time.Time          { return time.Unix(0, c.now.Load()) }
func (c *stubClock) Advance(d time.Duration) { c.now.Add(int64(d)) }

func TestStubTokenRefresh(t *testing.T) {
	t.Parallel()
	t.Run("renewed before the short TTL ends", func(t *testing.T) {
		t.Parallel()
		clk := &stubClock{}
		clk.now.Store(time.Now().UnixNano())
		srv := apitest.NewServer(t, apitest.WithTokenTTL(time.Minute), apitest.WithClock(clk.Now))
		c := srv.Client(api.WithClock(clk.Now))
		ctx := context.Background()
		for _, step := range []time.Duration{0, 30 * time.Second, 25 * time.Second, 0} {
			clk.Advance(step)
			if _, err := c.ListIntegrations(ctx, api.ListIntegrationsParams{}); err != nil {
				t.Fatalf("after %v: %v", step, err)
			}
		}
		// 0s and 30s: the first token; 55s (5s left): a new one, reused at 55s.
		if tokens, calls := tokenRequests(srv), apiRequests(srv); tokens != 2 || calls != 4 {
			t.Errorf("%d token and %d API requests, want 2 and 4", tokens, calls)
		}
	})
	t.Run("expired on the server, 401, renewed once", func(t *testing.T) {
		t.Parallel()
		serverClock, clientClock := &stubClock{}, &stubClock{}
		serverClock.now.Store(time.Now().UnixNano())
		clientClock.now.Store(time.Now().UnixNano())
		srv := apitest.NewServer(t, apitest.WithTokenTTL(time.Second), apitest.WithClock(serverClock.Now))
		c := srv.Client(api.WithClock(clientClock.Now))
		ctx := context.Background()
		if _, err := c.ListIntegrations(ctx, api.ListIntegrationsParams{}); err != nil {
			t.Fatal(err)
		}
		serverClock.Advance(2 * time.Second) // the client still thinks its token fresh
		if _, err := c.ListIntegrations(ctx, api.ListIntegrationsParams{}); err != nil {
			t.Fatal(err)
		}
		if tokens, calls := tokenRequests(srv), apiRequests(srv); tokens != 2 || calls != 3 {
			t.Errorf("%d token and %d API requests, want 2 and 3 (one 401, one renewal)", tokens, calls)
		}
	})
}

func TestStubRetryAfter(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t)
	clk := newFakeClock()
	c := srv.Client(prefer(429), api.WithSleep(clk.Sleep), api.WithClock(clk.Now), api.WithRetry(api.RetryPolicy{MaxAttempts: 4}))
	_, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
	var e *api.Error
	if !errors.As(err, &e) || e.Code != api.CodeResourceExhausted {
		t.Fatalf("error = %v, want RESOURCE_EXHAUSTED after the attempts", err)
	}
	if calls := apiRequests(srv); calls != 4 {
		t.Errorf("%d attempts, want 4", calls)
	}
	if want := []time.Duration{time.Second, time.Second, time.Second}; !slices.Equal(clk.Slept(), want) {
		t.Errorf("waited %v, want %v (Retry-After: 1)", clk.Slept(), want)
	}
}

func TestStubErrorRateRetried(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, apitest.WithErrorRate(1))
	clk := newFakeClock()
	c := srv.Client(api.WithSleep(clk.Sleep), api.WithClock(clk.Now))
	_, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
	var e *api.Error
	if !errors.As(err, &e) || e.Code != api.CodeUnavailable || e.HTTPStatus != 503 {
		t.Fatalf("error = %v", err)
	}
	if calls := apiRequests(srv); calls != api.DefaultMaxAttempts {
		t.Errorf("%d attempts, want %d", calls, api.DefaultMaxAttempts)
	}
}

func TestStubCancelDuringBackoff(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sleep := func(ctx context.Context, d time.Duration) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}
	c := srv.Client(prefer(503), api.WithSleep(sleep))
	_, err := c.ListIntegrations(ctx, api.ListIntegrationsParams{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if calls := apiRequests(srv); calls != 1 {
		t.Errorf("%d attempts, want 1", calls)
	}
}

func TestStubRateLimit(t *testing.T) {
	t.Parallel()
	t.Run("server limit answers 429 with RetryInfo", func(t *testing.T) {
		t.Parallel()
		srv := apitest.NewServer(t, apitest.WithRateLimit(1))
		c := srv.Client(api.WithRetry(api.RetryPolicy{MaxAttempts: 1}))
		var codes []api.Code
		for range 3 {
			_, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
			var e *api.Error
			switch {
			case err == nil:
				codes = append(codes, api.CodeOK)
			case errors.As(err, &e):
				codes = append(codes, e.Code)
				if d, ok := e.RetryInfo(); !ok || d <= 0 || d > time.Second {
					t.Errorf("RetryInfo() = %v, %v", d, ok)
				}
			default:
				t.Fatal(err)
			}
		}
		if codes[0] != api.CodeOK || codes[2] != api.CodeResourceExhausted {
			t.Errorf("codes %v: want OK first and RESOURCE_EXHAUSTED past the limit", codes)
		}
	})
	t.Run("client limiter waits before every attempt", func(t *testing.T) {
		t.Parallel()
		srv := apitest.NewServer(t)
		lim := &countingLimiter{}
		clk := newFakeClock()
		c := srv.Client(api.WithLimiter(lim), api.WithSleep(clk.Sleep))
		for range 3 {
			if _, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{}); err != nil {
				t.Fatal(err)
			}
		}
		c503 := srv.Client(api.WithLimiter(lim), api.WithSleep(clk.Sleep), prefer(503))
		_, _ = c503.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
		if calls := apiRequests(srv); int(lim.waits.Load()) != calls || calls != 3+api.DefaultMaxAttempts {
			t.Errorf("%d waits for %d API requests, want %d of each", lim.waits.Load(), calls, 3+api.DefaultMaxAttempts)
		}
	})
	t.Run("a client at the server's rate is never refused", func(t *testing.T) {
		t.Parallel()
		const perSecond = 40
		srv := apitest.NewServer(t, apitest.WithRateLimit(perSecond))
		c := srv.Client(api.WithRateLimit(perSecond), api.WithRetry(api.RetryPolicy{MaxAttempts: 1}))
		for i := range 2 * perSecond / 4 {
			if _, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{}); err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
		}
	})
}
