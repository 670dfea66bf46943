package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// tokenSource fetches tokens with OAuth2 client credentials and caches one,
// renewing it before it expires: 10 seconds before, or half-way through the
// lifetime of a token shorter than 20 seconds.
//
// One fetch runs at a time, so that callers arriving together share one
// token, but nobody waits on a lock: the right to fetch is a one-slot
// semaphore taken in a select with the caller's context, so a caller whose
// deadline passes while another call's fetch hangs gives up at its deadline.
type tokenSource struct {
	cfg clientcredentials.Config
	hc  *http.Client
	now func() time.Time

	fetch chan struct{} // one slot: held by the caller that fetches

	mu        sync.Mutex // guards what follows; never held across I/O
	tok       string
	refreshAt time.Time // zero: the server gave no lifetime
	seen      []string  // tokens fetched, for redaction (the last few)
}

// refreshMargin is how long before expiry a cached token is renewed.
const refreshMargin = 10 * time.Second

// maxSeenTokens is how many fetched tokens are remembered for redaction.
const maxSeenTokens = 4

func newTokenSource(cfg config, hc *http.Client) *tokenSource {
	return &tokenSource{
		cfg: clientcredentials.Config{
			ClientID:     cfg.clientID,
			ClientSecret: cfg.secret,
			TokenURL:     cfg.tokenURL,
			// Explicit: auto-detection costs a second request on failure.
			AuthStyle: oauth2.AuthStyleInHeader,
		},
		hc:    hc,
		now:   cfg.now,
		fetch: make(chan struct{}, 1),
	}
}

// cached returns the cached token if it is still fresh.
func (s *tokenSource) cached() (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != "" && (s.refreshAt.IsZero() || s.now().Before(s.refreshAt)) {
		return s.tok, true
	}
	return "", false
}

func (s *tokenSource) token(ctx context.Context) (string, error) {
	if tok, ok := s.cached(); ok {
		return tok, nil
	}
	select {
	case s.fetch <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("torq: wait for a token: %w", ctx.Err())
	}
	defer func() { <-s.fetch }()
	// Another caller may have fetched one while this one waited.
	if tok, ok := s.cached(); ok {
		return tok, nil
	}
	start := s.now()
	t, err := s.cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, s.hc))
	if err != nil {
		return "", tokenError(ctx, err)
	}
	lifetime := time.Duration(t.ExpiresIn) * time.Second
	if lifetime <= 0 && !t.Expiry.IsZero() {
		lifetime = time.Until(t.Expiry)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tok = t.AccessToken
	s.seen = append(s.seen, t.AccessToken)
	if len(s.seen) > maxSeenTokens {
		s.seen = s.seen[len(s.seen)-maxSeenTokens:]
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
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// sentForms returns every form in which the client credentials leave the
// client: the secret raw and form-escaped, and the HTTP Basic value (base64
// of the form-escaped ID and secret, as RFC 6749 2.3.1 asks and the oauth2
// package sends), with and without its scheme.
func sentForms(clientID, secret string) []string {
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID) + ":" + url.QueryEscape(secret)))
	return []string{secret, url.QueryEscape(secret), url.PathEscape(secret), basic}
}

// tokenError turns a failed token request into an *Error when the token
// endpoint answered. A refusal of the Client ID or Client Secret (HTTP 400
// or 401, or an RFC 6749 error code whatever the status) is
// CodeUnauthenticated; no failure is CodeOK, even when the endpoint said
// 200 (newError never gives OK). The oauth2 package's own message is not used, as it quotes the whole
// response body.
func tokenError(ctx context.Context, err error) error {
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
	e := newError(status, re.Response.Header, body)
	if _, isStatus := decodeStatus(body); !isStatus && re.ErrorCode != "" {
		e.Message = re.ErrorCode
		if re.ErrorDescription != "" {
			e.Message += ": " + re.ErrorDescription
		}
	}
	switch {
	case status == http.StatusBadRequest || status == http.StatusUnauthorized:
		// RFC 6749 5.2: invalid_client and friends.
		e.Code = CodeUnauthenticated
	case re.ErrorCode == "invalid_client" || re.ErrorCode == "invalid_grant" || re.ErrorCode == "unauthorized_client":
		// The same refusal under another status (some endpoints answer 200).
		e.Code = CodeUnauthenticated
	}
	e.Message = "token endpoint: " + e.Message
	return e
}
