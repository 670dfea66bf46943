package api

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/torqapi/integrations/generated"
)

// Region is a Torq region: it chooses the API base URL and the token URL.
type Region string

// The regions of Torq's public API.
const (
	// RegionUS is https://api.torq.io/public with tokens from
	// https://auth.torq.io/v1/auth/token (the default).
	RegionUS Region = "us"
	// RegionEU is https://api.eu.torq.io/public with tokens from
	// https://auth.eu.torq.io/v1/auth/token.
	RegionEU Region = "eu"
)

var regions = map[Region]struct{ base, token string }{
	RegionUS: {"https://api.torq.io/public", "https://auth.torq.io/v1/auth/token"},
	RegionEU: {"https://api.eu.torq.io/public", "https://auth.eu.torq.io/v1/auth/token"},
}

// DefaultUserAgent is the User-Agent sent unless WithUserAgent sets another.
const DefaultUserAgent = "torq-integrations-go"

// RateLimitTorq is Torq's documented rate limit, in requests per second, for
// use with WithRateLimit.
const RateLimitTorq = 50

// RetryPolicy says how a call is retried after HTTP 429, 502, 503, 504 or a
// transport error (other answers, and an ended context, are not retried).
// Zero fields take the defaults.
//
// A wait never runs past the context's deadline: when the next attempt would
// start after it, the call ends at once with the last answer's *Error (or
// the last transport error, wrapped). When the context is cancelled during
// a wait, the error wraps the context's error.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts, the first included (default
	// 3); 1 turns retries off.
	MaxAttempts int
	// InitialBackoff is the upper bound of the first backoff (default
	// 100ms); each further attempt doubles it, up to MaxBackoff. The wait is
	// drawn uniformly from [0, bound] ("full jitter").
	InitialBackoff time.Duration
	// MaxBackoff caps the backoff bound (default 2s). Applies to the
	// client's own backoff, not to a wait the server asks for.
	MaxBackoff time.Duration
	// MaxRetryAfter is the longest wait the server may ask for with
	// Retry-After or a google.rpc.RetryInfo detail (default 30s). If it asks
	// for more, the call is not retried and its *Error is returned.
	MaxRetryAfter time.Duration
}

// Default retry settings.
const (
	DefaultMaxAttempts    = 3
	DefaultInitialBackoff = 100 * time.Millisecond
	DefaultMaxBackoff     = 2 * time.Second
	DefaultMaxRetryAfter  = 30 * time.Second
)

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.InitialBackoff == 0 {
		p.InitialBackoff = DefaultInitialBackoff
	}
	if p.MaxBackoff == 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	if p.MaxRetryAfter == 0 {
		p.MaxRetryAfter = DefaultMaxRetryAfter
	}
	return p
}

// waiter is what the client needs of a rate limiter (*rate.Limiter).
type waiter interface {
	Wait(ctx context.Context) error
}

type config struct {
	region             Region
	baseURL, tokenURL  string
	bearer             string
	clientID, secret   string
	hasBearer, hasCred bool
	httpClient         *http.Client
	userAgent          string
	retry              RetryPolicy
	limiter            waiter
	timeouts           Timeouts
	check              ResponseCheck

	// Seams for tests; set by the unexported options in export_test.go.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	rand  func(n int64) int64
}

// Option configures a Client. Options check their input: NewClient returns
// the first error.
type Option func(*config) error

// WithBaseURL sets the API base URL, for example
// "https://api.torq.io/public" (the /public base path included) or a stub's
// "http://127.0.0.1:8080/public". It must be an absolute http or https URL
// without user info, query or fragment. It takes precedence over WithRegion.
func WithBaseURL(base string) Option {
	return func(c *config) error {
		u, err := checkURL(base)
		if err != nil {
			return fmt.Errorf("api: WithBaseURL: %w", err)
		}
		c.baseURL = strings.TrimSuffix(u, "/")
		return nil
	}
}

// WithTokenURL sets the OAuth2 token endpoint used with client credentials,
// for example "https://auth.torq.io/v1/auth/token". Same rules as
// WithBaseURL; it takes precedence over WithRegion.
func WithTokenURL(tokenURL string) Option {
	return func(c *config) error {
		u, err := checkURL(tokenURL)
		if err != nil {
			return fmt.Errorf("api: WithTokenURL: %w", err)
		}
		c.tokenURL = u
		return nil
	}
}

func checkURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("not a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("scheme must be http or https, not %q", u.Scheme)
	case u.Host == "":
		return "", errors.New("URL has no host")
	case u.User != nil:
		return "", errors.New("URL must not carry user info; use WithClientCredentials or WithBearerToken")
	case u.RawQuery != "" || u.ForceQuery:
		return "", errors.New("URL must not have a query")
	case u.Fragment != "":
		return "", errors.New("URL must not have a fragment")
	}
	return u.String(), nil
}

// WithRegion chooses the API base URL and token URL of a Torq region
// (RegionUS by default).
func WithRegion(r Region) Option {
	return func(c *config) error {
		if _, ok := regions[r]; !ok {
			return fmt.Errorf("api: WithRegion: unknown region %q (want %q or %q)", string(r), RegionUS, RegionEU)
		}
		c.region = r
		return nil
	}
}

// WithBearerToken authenticates every request with a fixed bearer token
// (one generated in Torq's UI, valid for an hour). The client cannot renew
// it: an expired token ends in an *Error with CodeUnauthenticated. Prefer
// WithClientCredentials for long-running programs.
func WithBearerToken(token string) Option {
	return func(c *config) error {
		if strings.TrimSpace(token) == "" {
			return errors.New("api: WithBearerToken: empty token")
		}
		if strings.ContainsAny(token, " \t\r\n") {
			return errors.New("api: WithBearerToken: token contains white space")
		}
		c.bearer, c.hasBearer = token, true
		return nil
	}
}

// WithClientCredentials authenticates with the Client ID and Client Secret
// of a Torq API key: the client fetches a token from the token URL (OAuth2
// client credentials, HTTP Basic), caches it, renews it shortly before it
// expires, and once more when the API answers 401 or 302 to it.
func WithClientCredentials(clientID, clientSecret string) Option {
	return func(c *config) error {
		if clientID == "" || clientSecret == "" {
			return errors.New("api: WithClientCredentials: client ID and client secret must not be empty")
		}
		c.clientID, c.secret, c.hasCred = clientID, clientSecret, true
		return nil
	}
}

// WithHTTPClient sets the HTTP client whose Transport (http.DefaultTransport
// if nil) and Timeout the client uses. Its CheckRedirect is not used:
// redirects are never followed.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("api: WithHTTPClient: nil *http.Client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithUserAgent sets the User-Agent header (DefaultUserAgent otherwise).
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		if strings.TrimSpace(ua) == "" || strings.ContainsAny(ua, "\r\n") {
			return errors.New("api: WithUserAgent: empty or multi-line user agent")
		}
		c.userAgent = ua
		return nil
	}
}

// WithRetry sets the retry policy; zero fields take the defaults (3
// attempts, 100ms initial backoff, 2s maximum backoff, 30s maximum
// Retry-After). RetryPolicy{MaxAttempts: 1} turns retries off.
func WithRetry(p RetryPolicy) Option {
	return func(c *config) error {
		if p.MaxAttempts < 0 || p.InitialBackoff < 0 || p.MaxBackoff < 0 || p.MaxRetryAfter < 0 {
			return errors.New("api: WithRetry: negative value in RetryPolicy")
		}
		d := p.withDefaults()
		if d.InitialBackoff > d.MaxBackoff {
			return fmt.Errorf("api: WithRetry: InitialBackoff %v is above MaxBackoff %v", d.InitialBackoff, d.MaxBackoff)
		}
		c.retry = p
		return nil
	}
}

// WithRateLimit keeps the client under perSecond requests per second (with
// a burst of one), waiting before each attempt; RateLimitTorq (50) is
// Torq's documented limit. Retries count against it.
func WithRateLimit(perSecond float64) Option {
	return func(c *config) error {
		if !(perSecond > 0) {
			return fmt.Errorf("api: WithRateLimit: rate must be positive, got %v", perSecond)
		}
		c.limiter = rate.NewLimiter(rate.Limit(perSecond), 1)
		return nil
	}
}

// Timeouts bound the phases of an attempt, so that a call with a context
// that never ends (context.Background()) still ends: a server that accepts
// the connection and never answers, or whose body trickles, costs at most
// Attempt per attempt, and the retry policy bounds the attempts. Zero
// fields take the defaults; a negative one turns that bound off.
type Timeouts struct {
	// Connect bounds establishing a connection: the TCP dial and the TLS
	// handshake, each (default 10s).
	Connect time.Duration
	// ResponseHeader bounds the wait for the response headers once the
	// request is written (default 30s).
	ResponseHeader time.Duration
	// Attempt bounds a whole attempt: fetching a token, sending the
	// request and reading the response body (default 60s).
	Attempt time.Duration
}

// Default timeouts (see Timeouts).
const (
	DefaultConnectTimeout        = 10 * time.Second
	DefaultResponseHeaderTimeout = 30 * time.Second
	DefaultAttemptTimeout        = 60 * time.Second
)

func (t Timeouts) withDefaults() Timeouts {
	if t.Connect == 0 {
		t.Connect = DefaultConnectTimeout
	}
	if t.ResponseHeader == 0 {
		t.ResponseHeader = DefaultResponseHeaderTimeout
	}
	if t.Attempt == 0 {
		t.Attempt = DefaultAttemptTimeout
	}
	return t
}

// WithTimeouts sets the timeouts of each attempt; zero fields keep the
// defaults (10s connect, 30s response headers, 60s a whole attempt) and a
// negative field turns that bound off. Connect and ResponseHeader apply to
// the client's own transport, so not when WithHTTPClient brings a
// Transport (set them on it); Attempt always applies.
func WithTimeouts(t Timeouts) Option {
	return func(c *config) error {
		c.timeouts = t
		return nil
	}
}

// ResponseCheck inspects an answer before the client uses it. A non-nil
// error fails the call with that error (it is not retried). Package
// apicheck builds one that holds every answer against the contract.
type ResponseCheck func(r *CheckedResponse) error

// CheckedResponse is what a ResponseCheck is given: a successful answer, or
// an error answer with a JSON body. Redirects and error pages that are not
// JSON (a proxy's, not the API's) are not checked: they become *Error
// values.
type CheckedResponse struct {
	// Request is the request as sent, without its Authorization header.
	Request *http.Request
	// Path is the request's path relative to the client's base URL, such
	// as "/v1alpha/integrations": the operation to check against.
	Path string
	// StatusCode and Header are the response's.
	StatusCode int
	Header     http.Header
	// Body is the response body, read through the client's size limits.
	// The check must not modify it.
	Body []byte
}

// WithResponseCheck has every answer of the API (not the token endpoint's)
// passed to check before it is decoded; see ResponseCheck. The client
// itself does not know the contract, so that importing api does not link
// a schema validator: apicheck.New builds a check from the embedded
// contract, in a strict or a report mode.
func WithResponseCheck(check ResponseCheck) Option {
	return func(c *config) error {
		if check == nil {
			return errors.New("api: WithResponseCheck: nil check")
		}
		c.check = check
		return nil
	}
}

// Client calls Torq's integrations API. It is safe for concurrent use.
type Client struct {
	baseURL        string // without the trailing slash
	basePath       string // its path, to make request paths relative
	userAgent      string
	hc             *http.Client // redirects are never followed
	static         string       // the bearer token of WithBearerToken
	tokens         *tokenSource // nil with WithBearerToken
	secrets        []string     // every form of the configured secrets that is sent
	retry          RetryPolicy
	limiter        waiter
	timeouts       Timeouts      // with the defaults filled in
	attemptTimeout time.Duration // <= 0: no bound
	check          ResponseCheck

	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	rand  func(n int64) int64
}

// NewClient returns a client configured by opts. Exactly one of
// WithClientCredentials and WithBearerToken is required.
func NewClient(opts ...Option) (*Client, error) {
	cfg := config{
		region:    RegionUS,
		userAgent: DefaultUserAgent,
		now:       time.Now,
		sleep:     sleepCtx,
		rand:      rand.Int64N,
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	switch {
	case cfg.hasBearer && cfg.hasCred:
		return nil, errors.New("api: NewClient: WithBearerToken and WithClientCredentials are mutually exclusive")
	case !cfg.hasBearer && !cfg.hasCred:
		return nil, errors.New("api: NewClient: no credentials: use WithClientCredentials(clientID, clientSecret) or WithBearerToken(token)")
	}
	if cfg.baseURL == "" {
		cfg.baseURL = regions[cfg.region].base
	}
	if cfg.tokenURL == "" {
		cfg.tokenURL = regions[cfg.region].token
	}
	base, _ := url.Parse(cfg.baseURL) // checked by WithBaseURL, or a constant
	timeouts := cfg.timeouts.withDefaults()
	hc := &http.Client{
		Transport: newTransport(timeouts),
		// Torq answers an expired token with a redirect to a login page:
		// never followed, the answer is what the client acts on.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if cfg.httpClient != nil {
		if cfg.httpClient.Transport != nil {
			hc.Transport = cfg.httpClient.Transport
		}
		hc.Timeout = cfg.httpClient.Timeout
	}
	c := &Client{
		baseURL:        cfg.baseURL,
		basePath:       strings.TrimSuffix(base.EscapedPath(), "/"),
		userAgent:      cfg.userAgent,
		hc:             hc,
		retry:          cfg.retry.withDefaults(),
		limiter:        cfg.limiter,
		timeouts:       timeouts,
		attemptTimeout: timeouts.Attempt,
		check:          cfg.check,
		now:            cfg.now,
		sleep:          cfg.sleep,
		rand:           cfg.rand,
	}
	if cfg.hasBearer {
		c.static = cfg.bearer
		c.secrets = []string{cfg.bearer, url.QueryEscape(cfg.bearer)}
	} else {
		c.tokens = newTokenSource(cfg, hc)
		c.secrets = sentForms(cfg.clientID, cfg.secret)
	}
	return c, nil
}

// newTransport is the client's own transport: http.DefaultTransport's
// settings (proxy from the environment, HTTP/2, keep-alives) with the
// connect and response-header bounds, which the default leaves (partly)
// unbounded.
func newTransport(t Timeouts) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{KeepAlive: 30 * time.Second}
	if t.Connect > 0 {
		dialer.Timeout = t.Connect
		tr.TLSHandshakeTimeout = t.Connect
	}
	tr.DialContext = dialer.DialContext
	if t.ResponseHeader > 0 {
		tr.ResponseHeaderTimeout = t.ResponseHeader
	}
	return tr
}

// ListIntegrationsParams are the parameters of ListIntegrations.
type ListIntegrationsParams struct {
	// TypeID, when not empty, keeps only the integrations of that type
	// (query parameter type_id), for example "webhook" or "slack".
	TypeID string
}

// ListIntegrations returns the integrations of the workspace
// (GET /v1alpha/integrations), an empty slice when there are none.
//
// Any HTTP answer other than 2xx is an *Error; a response that fails the
// check of WithResponseCheck fails with the check's error (a
// *ContractError from package apicheck).
func (c *Client) ListIntegrations(ctx context.Context, params ListIntegrationsParams) ([]Integration, error) {
	// The generated code sends type_id= even when empty, which the API
	// rejects; no TypeID means no query at all.
	var p *generated.ListIntegrationsParams
	if params.TypeID != "" {
		p = &generated.ListIntegrationsParams{TypeID: params.TypeID}
	}
	newReq := func(ctx context.Context) (*http.Request, error) {
		req, err := generated.NewListIntegrationsRequest(c.baseURL+"/", p)
		if err != nil {
			return nil, err
		}
		return req.WithContext(ctx), nil
	}
	var list integrationList
	if err := c.do(ctx, newReq, &list); err != nil {
		return nil, c.redact(err)
	}
	if list.Integrations == nil {
		list.Integrations = []Integration{}
	}
	return list.Integrations, nil
}
