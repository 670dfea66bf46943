package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// doer is the generated client's HttpRequestDoer: it sends a request through
// the transport chain
//
//	retry -> rate limit -> auth -> response validation -> base transport
//
// and turns every non-2xx answer into an *Error, reading bodies through size
// limits.
type doer struct {
	hc        *http.Client
	userAgent string
	secrets   func() []string
}

// doerError marks an error that the doer already made fit for the caller,
// so ListIntegrations can tell it from a decoding error.
type doerError struct{ err error }

func (e *doerError) Error() string { return e.err.Error() }
func (e *doerError) Unwrap() error { return e.err }

func newDoer(cfg config) (*doer, error) {
	base := http.DefaultTransport
	var timeout time.Duration
	if cfg.httpClient != nil {
		if cfg.httpClient.Transport != nil {
			base = cfg.httpClient.Transport
		}
		timeout = cfg.httpClient.Timeout
	}
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	var rt http.RoundTripper = base
	if cfg.validate {
		v, err := newValidateTransport(rt)
		if err != nil {
			return nil, err
		}
		rt = v
	}
	d := &doer{userAgent: cfg.userAgent}
	auth := &authTransport{next: rt}
	if cfg.hasBearer {
		auth.static = cfg.bearer
	} else {
		auth.tokens = newTokenSource(cfg, &http.Client{Transport: base, Timeout: timeout, CheckRedirect: noRedirect}, d.redact)
	}
	rt = auth
	if cfg.limiter != nil {
		rt = &limitTransport{next: rt, limiter: cfg.limiter}
	}
	rt = &retryTransport{next: rt, policy: cfg.retry.withDefaults(), now: cfg.now, sleep: cfg.sleep, rand: cfg.rand}

	d.hc = &http.Client{Transport: rt, Timeout: timeout, CheckRedirect: noRedirect}
	d.secrets = func() []string {
		s := []string{cfg.bearer, cfg.secret}
		if auth.tokens != nil {
			s = append(s, auth.tokens.known()...)
		}
		return s
	}
	return d, nil
}

// Do implements generated.HttpRequestDoer.
func (d *doer) Do(req *http.Request) (*http.Response, error) {
	req.Header.Set("User-Agent", d.userAgent)
	req.Header.Set("Accept", "application/json")
	resp, err := d.hc.Do(req)
	if err != nil {
		return nil, &doerError{d.clean(err)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		body, err := readBody(resp.Body, MaxResponseBodyBytes)
		if err != nil {
			return nil, &doerError{d.clean(err)}
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return resp, nil
	}
	body, _ := readErrorBody(resp.Body)
	return nil, &doerError{newError(resp.StatusCode, resp.Header, body, d.redact)}
}

// readBody reads all of r, failing with ErrResponseTooLarge past limit
// bytes, and closes it.
func readBody(r io.ReadCloser, limit int64) ([]byte, error) {
	defer func() { _ = r.Close() }()
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("torq: read response body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes (limit %d MiB)", ErrResponseTooLarge, limit, limit>>20)
	}
	return b, nil
}

// readErrorBody reads at most MaxErrorBodyBytes of an error body (the rest
// is dropped) and closes it.
func readErrorBody(r io.ReadCloser) ([]byte, error) {
	defer func() { _ = r.Close() }()
	return io.ReadAll(io.LimitReader(r, MaxErrorBodyBytes))
}

// clean returns err as the caller should see it: the client's own errors
// without the *url.Error wrapper that http.Client adds, and no secret in
// any message.
func (d *doer) clean(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		var (
			ae *Error
			ce *ContractError
			re *retryError
			le *limitError
		)
		if errors.As(ue.Err, &ae) || errors.As(ue.Err, &ce) || errors.As(ue.Err, &re) || errors.As(ue.Err, &le) || errors.Is(ue.Err, ErrResponseTooLarge) {
			err = ue.Err
		}
	}
	var ae *Error
	if errors.As(err, &ae) {
		ae.Message = d.redact(ae.Message)
		ae.Body = []byte(d.redact(string(ae.Body)))
	}
	if msg := err.Error(); d.redact(msg) != msg {
		return &redactedError{msg: d.redact(msg), err: err}
	}
	return err
}

// redact replaces every secret the client knows (the bearer token, the
// client secret, access tokens it fetched) in s.
func (d *doer) redact(s string) string {
	for _, secret := range d.secrets() {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "[REDACTED]")
		}
	}
	return s
}

// redactedError hides a secret that an underlying error's message carried.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// retryError is the error of a call that was retried and gave up without
// an HTTP answer to return.
type retryError struct {
	why string
	err error
}

func (e *retryError) Error() string { return "torq: " + e.why + ": " + e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// retryTransport retries the idempotent GET on 429, 502, 503, 504 and
// transport errors, honouring Retry-After and google.rpc.RetryInfo.
type retryTransport struct {
	next   http.RoundTripper
	policy RetryPolicy
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	rand   func(n int64) int64
}

func retryableStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryableError says whether an error without a response is worth another
// attempt: transport errors are, the client's own verdicts are not (a token
// endpoint's 503 is).
func retryableError(err error) bool {
	var ae *Error
	if errors.As(err, &ae) {
		return retryableStatus(ae.HTTPStatus)
	}
	var (
		ce *ContractError
		le *limitError
	)
	return !errors.As(err, &ce) && !errors.As(err, &le) && !errors.Is(err, ErrResponseTooLarge)
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for attempt := 1; ; attempt++ {
		resp, err := t.next.RoundTrip(req.Clone(ctx))
		if err != nil && ctx.Err() != nil {
			return nil, err // the caller gave up: never retried
		}
		if attempt >= t.policy.MaxAttempts {
			return resp, err
		}
		var (
			delay     time.Duration
			fromServe bool
		)
		switch {
		case err != nil:
			if !retryableError(err) {
				return nil, err
			}
			delay = t.backoff(attempt)
			var ae *Error
			if errors.As(err, &ae) {
				if d, ok := serverDelay(ae.Header, ae.Details, t.now()); ok {
					delay, fromServe = d, true
				}
			}
		case retryableStatus(resp.StatusCode):
			// Keep what was read so the caller can still decode the
			// last answer; error bodies are bounded anyway.
			body, _ := readErrorBody(resp.Body)
			resp.Body = io.NopCloser(bytes.NewReader(body))
			delay = t.backoff(attempt)
			if d, ok := serverDelay(resp.Header, statusDetails(body), t.now()); ok {
				delay, fromServe = d, true
			}
		default:
			return resp, nil
		}
		if fromServe && delay > t.policy.MaxRetryAfter {
			// The server asks for a longer pause than allowed: give its
			// answer back (Retry-After is in the *Error's Header).
			return resp, err
		}
		if dl, ok := ctx.Deadline(); ok && t.now().Add(delay).After(dl) {
			if err != nil {
				return nil, &retryError{why: fmt.Sprintf("gave up after attempt %d: the next one would start after the context deadline", attempt), err: err}
			}
			return resp, nil
		}
		if serr := t.sleep(ctx, delay); serr != nil {
			var last string
			if err != nil {
				last = err.Error()
			} else {
				last = "HTTP " + strconv.Itoa(resp.StatusCode)
				_ = resp.Body.Close()
			}
			return nil, &retryError{why: fmt.Sprintf("stopped waiting to retry (attempt %d: %s)", attempt, last), err: serr}
		}
		if resp != nil {
			_ = resp.Body.Close()
		}
	}
}

// backoff draws the wait before attempt+1: uniform in [0, bound], the bound
// doubling from InitialBackoff up to MaxBackoff ("full jitter").
func (t *retryTransport) backoff(attempt int) time.Duration {
	bound := t.policy.InitialBackoff
	for i := 1; i < attempt && bound < t.policy.MaxBackoff; i++ {
		bound *= 2
	}
	bound = min(bound, t.policy.MaxBackoff)
	return time.Duration(t.rand(int64(bound) + 1))
}

// serverDelay is the wait the server asked for: Retry-After (delta seconds
// or an HTTP date) first, then a google.rpc.RetryInfo detail.
func serverDelay(h http.Header, details []Any, now time.Time) (time.Duration, bool) {
	if ra := strings.TrimSpace(h.Get("Retry-After")); ra != "" {
		if secs, err := strconv.ParseInt(ra, 10, 64); err == nil && secs >= 0 {
			if secs > int64(24*time.Hour/time.Second) {
				secs = int64(24 * time.Hour / time.Second)
			}
			return time.Duration(secs) * time.Second, true
		}
		if at, err := http.ParseTime(ra); err == nil {
			return max(at.Sub(now), 0), true
		}
	}
	if d, ok := findDetail(details, "google.rpc.RetryInfo"); ok {
		return retryDelay(d)
	}
	return 0, false
}

func statusDetails(body []byte) []Any {
	st, ok := decodeStatus(body)
	if !ok {
		return nil
	}
	return st.Details
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// limitTransport waits for the rate limiter before every attempt.
type limitTransport struct {
	next    http.RoundTripper
	limiter waiter
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.limiter.Wait(req.Context()); err != nil {
		return nil, &limitError{err}
	}
	return t.next.RoundTrip(req)
}

// limitError is a wait for the rate limiter that failed: the context ended,
// or would end before the limiter allows the request. Not retried.
type limitError struct{ err error }

func (e *limitError) Error() string { return "torq: rate limit: " + e.err.Error() }
func (e *limitError) Unwrap() error { return e.err }
