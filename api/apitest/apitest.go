// Package apitest runs the stub of Torq's integrations API in-process for Go
// tests, the way net/http/httptest runs a handler: the very handler stack
// cmd/torq-stub serves, with the same contract validation, the same errors
// and the same token endpoint.
//
//	srv := apitest.NewServer(t, apitest.WithIntegrations(a, b)) // closed by t.Cleanup
//	c := srv.Client()                                          // an *api.Client wired to it
//	list, err := c.ListIntegrations(ctx, api.ListIntegrationsParams{})
//
// Requests may force an error answer with the header `Prefer: code=NNN`
// (for example 403, 429, 503), and srv.Requests() tells what the server
// received, so a test can assert what its code sent.
//
// Through the stub's control API (the routes a test of the torq-stub
// binary uses, see package stubctl), a test gets its own workspace
// (srv.Workspace), scripted answers ("503, then 429 with Retry-After, then
// success": ws.Script), the stub's journal of what it answered and judged
// (srv.Journal) and a check that it judged nothing wrong
// (srv.RequireClean).
package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/torqapi/integrations/api"
	"github.com/torqapi/integrations/api/apitest/stubctl"
	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/auth"
	"github.com/torqapi/integrations/internal/stub"
)

// Server is a running stub. Its fields are set by NewServer and must not be
// changed.
type Server struct {
	// URL is the API base URL, "/public" included, as Torq's is: give it to
	// api.WithBaseURL.
	URL string
	// Token is a static bearer token the server accepts.
	Token string
	// TokenURL is the OAuth2 client-credentials token endpoint.
	TokenURL string
	// ClientID and ClientSecret are the credentials the token endpoint
	// accepts.
	ClientID, ClientSecret string

	t    testing.TB
	http *httptest.Server

	ctl *stubctl.Client

	mu       sync.Mutex
	requests []RecordedRequest
}

// RecordedRequest is a request the server received. Authorization headers
// are redacted: only their scheme is kept ("Bearer [REDACTED]").
type RecordedRequest struct {
	Method string
	// Path is the URL path, such as "/public/v1alpha/integrations".
	Path   string
	Query  url.Values
	Header http.Header
	// Body is the request body (the token endpoint's form), at most 64 KiB.
	Body []byte
}

type settings struct {
	cfg stub.Config
}

// Option configures a Server; the options mirror cmd/torq-stub's flags. An
// option's error fails the test in NewServer.
type Option func(s *settings) error

// WithIntegrations serves exactly these integrations (none when called
// without arguments) instead of the default workspace. They are checked
// against the contract; a bad one fails the test.
func WithIntegrations(items ...api.Integration) Option {
	return func(s *settings) error {
		served, err := toGenerated(items)
		if err != nil {
			return fmt.Errorf("apitest.WithIntegrations: %w", err)
		}
		// The stub judges them against the contract, as it judges a
		// fixture file; a bad one fails NewServer.
		s.cfg.Integrations = served
		return nil
	}
}

// WithFixturesFile serves the integrations of a JSON or YAML file
// ({"integrations": [...]}); a bad file fails the test.
func WithFixturesFile(path string) Option {
	return func(s *settings) error { s.cfg.FixturesFile = path; return nil }
}

// WithLatency delays every authenticated API request by a uniformly random
// duration in [min, max].
func WithLatency(minDelay, maxDelay time.Duration) Option {
	return func(s *settings) error { s.cfg.LatencyMin, s.cfg.LatencyMax = minDelay, maxDelay; return nil }
}

// WithErrorRate answers this share (0 to 1) of API requests with 503
// UNAVAILABLE.
func WithErrorRate(rate float64) Option {
	return func(s *settings) error { s.cfg.ErrorRate = rate; return nil }
}

// WithRateLimit allows perSecond API requests per second per caller and
// answers the rest 429 RESOURCE_EXHAUSTED with Retry-After and RetryInfo.
func WithRateLimit(perSecond float64) Option {
	return func(s *settings) error { s.cfg.RateLimit = perSecond; return nil }
}

// WithTokenTTL sets the lifetime of the tokens the token endpoint issues
// (one hour by default; at least one second).
func WithTokenTTL(ttl time.Duration) Option {
	return func(s *settings) error { s.cfg.Auth.TokenTTL = ttl; return nil }
}

// WithClientID sets the Client ID the token endpoint accepts.
func WithClientID(id string) Option {
	return func(s *settings) error { s.cfg.Auth.ClientID = id; return nil }
}

// WithClientSecret sets the Client Secret the token endpoint accepts, for
// example one with the characters `+ / = $` that need escaping.
func WithClientSecret(secret string) Option {
	return func(s *settings) error { s.cfg.Auth.ClientSecret = secret; return nil }
}

// WithClock sets the clock the server judges token expiry by, so that a
// test can expire tokens without waiting.
func WithClock(now func() time.Time) Option {
	return func(s *settings) error { s.cfg.Auth.Now = now; return nil }
}

// toGenerated converts the client's integrations into the stub's: through
// their JSON, which is the contract between the two (api's types are its
// own, kept equal on the wire to the generated models).
func toGenerated(items []api.Integration) ([]generated.Integration, error) {
	out := []generated.Integration{} // non-nil: none means none, not the default
	if len(items) == 0 {
		return out, nil
	}
	b, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// NewServer starts a stub on a loopback port and closes it when the test
// ends. A configuration the stub refuses fails the test.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var s settings
	for _, o := range opts {
		if err := o(&s); err != nil {
			t.Fatalf("apitest.NewServer: %v", err)
		}
	}
	h, err := stub.NewHandler(s.cfg)
	if err != nil {
		t.Fatalf("apitest.NewServer: %v", err)
	}
	srv := &Server{t: t, Token: auth.DemoToken, ClientID: s.cfg.Auth.ClientID, ClientSecret: s.cfg.Auth.ClientSecret}
	if srv.ClientID == "" {
		srv.ClientID = auth.DemoClientID
	}
	if srv.ClientSecret == "" {
		srv.ClientSecret = auth.DemoClientSecret
	}
	srv.http = httptest.NewServer(srv.record(h))
	t.Cleanup(srv.http.Close)
	// The control API of the same handler, on loopback: the typed helpers
	// go through its routes, as a test of the binary would.
	srv.ctl, err = stubctl.New(srv.http.URL, stubctl.WithHTTPClient(srv.http.Client()))
	if err != nil {
		t.Fatalf("apitest.NewServer: %v", err)
	}
	srv.URL = srv.http.URL + "/public"
	srv.TokenURL = srv.http.URL + "/v1/auth/token"
	return srv
}

// Client returns an *api.Client wired to the server with its client
// credentials; opts are applied after those (a retry policy, a response
// check...). For a client with the static token, build one with
// api.NewClient(api.WithBaseURL(srv.URL), api.WithBearerToken(srv.Token)).
// An error fails the test.
func (s *Server) Client(opts ...api.Option) *api.Client {
	s.t.Helper()
	return s.newClient("Server.Client", api.WithClientCredentials(s.ClientID, s.ClientSecret), opts)
}

// newClient is an *api.Client wired to the server with a credential and
// then opts; an error fails the test, named by who.
func (s *Server) newClient(who string, cred api.Option, opts []api.Option) *api.Client {
	s.t.Helper()
	all := []api.Option{
		api.WithBaseURL(s.URL),
		api.WithTokenURL(s.TokenURL),
		cred,
		api.WithHTTPClient(s.http.Client()),
	}
	c, err := api.NewClient(append(all, opts...)...)
	if err != nil {
		s.t.Fatalf("apitest: %s: %v", who, err)
	}
	return c
}

// Requests returns the requests received so far, oldest first, token
// requests included. It is safe for concurrent use.
func (s *Server) Requests() []RecordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RecordedRequest(nil), s.requests...)
}

// maxRecordedBody bounds the part of a request body that is recorded.
const maxRecordedBody = 64 << 10

func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(io.LimitReader(r.Body, maxRecordedBody))
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
		}
		h := r.Header.Clone()
		if a := h.Get("Authorization"); a != "" {
			scheme, _, _ := strings.Cut(a, " ")
			h.Set("Authorization", scheme+" [REDACTED]")
		}
		s.mu.Lock()
		s.requests = append(s.requests, RecordedRequest{
			Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: h, Body: body,
		})
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}
