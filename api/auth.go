package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// authTransport sets the bearer token. With client credentials, a 401 or a
// redirect (Torq's answer to an expired token) on a cached token renews the
// token once and sends the request once more.
type authTransport struct {
	next   http.RoundTripper
	static string
	tokens *tokenSource
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.tokens == nil {
		return t.next.RoundTrip(withBearer(req, t.static))
	}
	ctx := req.Context()
	tok, err := t.tokens.token(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := t.next.RoundTrip(withBearer(req, tok))
	if err != nil || !(resp.StatusCode == http.StatusUnauthorized || isRedirect(resp.StatusCode)) {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxErrorBodyBytes))
	_ = resp.Body.Close()
	t.tokens.invalidate(tok)
	if tok, err = t.tokens.token(ctx); err != nil {
		return nil, err
	}
	return t.next.RoundTrip(withBearer(req, tok))
}

func isRedirect(status int) bool { return status >= 300 && status < 400 }

func withBearer(req *http.Request, tok string) *http.Request {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

// tokenSource fetches tokens with OAuth2 client credentials and caches one,
// renewing it before it expires: 10 seconds before, or half-way through the
// lifetime of a token shorter than 20 seconds.
type tokenSource struct {
	cfg    clientcredentials.Config
	hc     *http.Client
	now    func() time.Time
	redact func(string) string

	mu        sync.Mutex // held during a fetch: one fetch at a time
	tok       string
	refreshAt time.Time // zero: the server gave no lifetime

	seenMu sync.Mutex // apart from mu: redaction runs during a fetch
	seen   []string   // tokens fetched, for redaction (the last few)
}

// refreshMargin is how long before expiry a cached token is renewed.
const refreshMargin = 10 * time.Second

func newTokenSource(cfg config, hc *http.Client, redact func(string) string) *tokenSource {
	return &tokenSource{
		cfg: clientcredentials.Config{
			ClientID:     cfg.clientID,
			ClientSecret: cfg.secret,
			TokenURL:     cfg.tokenURL,
			// Explicit: auto-detection costs a second request on failure.
			AuthStyle: oauth2.AuthStyleInHeader,
		},
		hc:     hc,
		now:    cfg.now,
		redact: redact,
	}
}

func (s *tokenSource) token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != "" && (s.refreshAt.IsZero() || s.now().Before(s.refreshAt)) {
		return s.tok, nil
	}
	start := s.now()
	t, err := s.cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, s.hc))
	if err != nil {
		return "", tokenError(ctx, err, s.redact)
	}
	s.tok = t.AccessToken
	s.seenMu.Lock()
	s.seen = append(s.seen, t.AccessToken)
	if len(s.seen) > 4 {
		s.seen = s.seen[len(s.seen)-4:]
	}
	s.seenMu.Unlock()
	lifetime := time.Duration(t.ExpiresIn) * time.Second
	if lifetime <= 0 && !t.Expiry.IsZero() {
		lifetime = time.Until(t.Expiry)
	}
	s.refreshAt = time.Time{}
	if lifetime > 0 {
		s.refreshAt = start.Add(lifetime - min(refreshMargin, lifetime/2))
	}
	return s.tok, nil
}

// invalidate forgets tok if it is still the cached token.
func (s *tokenSource) invalidate(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == tok {
		s.tok = ""
	}
}

// known returns the tokens the source fetched lately.
func (s *tokenSource) known() []string {
	s.seenMu.Lock()
	defer s.seenMu.Unlock()
	return append([]string(nil), s.seen...)
}

// tokenError turns a failed token request into an *Error when the token
// endpoint answered: a refused Client ID or Client Secret is
// CodeUnauthenticated. The oauth2 package's own message is not used, as it
// quotes the whole response body.
func tokenError(ctx context.Context, err error, redact func(string) string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("torq: fetch token: %w", ctx.Err())
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		return fmt.Errorf("torq: fetch token: %w", err)
	}
	status := re.Response.StatusCode
	body := re.Body
	if len(body) > MaxErrorBodyBytes {
		body = body[:MaxErrorBodyBytes]
	}
	e := newError(status, re.Response.Header, body, redact)
	if _, isStatus := decodeStatus(body); !isStatus && re.ErrorCode != "" {
		e.Message = re.ErrorCode
		if re.ErrorDescription != "" {
			e.Message += ": " + re.ErrorDescription
		}
		e.Message = redact(e.Message)
	}
	if status == http.StatusBadRequest || status == http.StatusUnauthorized {
		// RFC 6749 5.2: invalid_client and friends.
		e.Code = CodeUnauthenticated
	}
	e.Message = "token endpoint: " + e.Message
	return e
}
