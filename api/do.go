package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// do runs one call: for each attempt, the rate limiter, the token, the
// request newReq builds, the base transport and checkResponse; then the
// retry decision. A 2xx answer's body is decoded into v. It is the one
// place a call's error is made; ListIntegrations redacts it on the way out.
func (c *Client) do(ctx context.Context, newReq func(context.Context) (*http.Request, error), v any) error {
	err := c.loop(ctx, newReq, v)
	var ce *checkError
	if errors.As(err, &ce) && err == error(ce) {
		return ce.err // the check's own error, as the check made it
	}
	return err
}

func (c *Client) loop(ctx context.Context, newReq func(context.Context) (*http.Request, error), v any) error {
	for attempt := 1; ; attempt++ {
		if c.limiter != nil {
			if err := c.limiter.Wait(ctx); err != nil {
				// The context ended, or would end before the limiter allows
				// the request: not retried.
				return fmt.Errorf("torq: rate limit: %w", err)
			}
		}
		body, err := c.attempt(ctx, newReq)
		if err == nil {
			if err := json.Unmarshal(body, v); err != nil {
				return fmt.Errorf("torq: decode response: %w", err)
			}
			return nil
		}
		if ctx.Err() != nil || attempt >= c.retry.MaxAttempts {
			return err // the caller gave up, or the attempts are spent
		}
		delay, ok := c.retryDelay(err, attempt)
		if !ok {
			return err
		}
		if dl, ok := ctx.Deadline(); ok && c.now().Add(delay).After(dl) {
			var ae *Error
			if errors.As(err, &ae) {
				return ae // the last answer is the caller's best information
			}
			return fmt.Errorf("torq: gave up after attempt %d: the next one would start after the context deadline: %w", attempt, err)
		}
		if serr := c.sleep(ctx, delay); serr != nil {
			last := err.Error()
			var ae *Error
			if errors.As(err, &ae) {
				last = "HTTP " + strconv.Itoa(ae.HTTPStatus)
			}
			return fmt.Errorf("torq: stopped waiting to retry (attempt %d: %s): %w", attempt, last, serr)
		}
	}
}

// retryDelay decides whether a failed attempt is retried, and after which
// wait: 429, 502, 503 and 504 answers (the token endpoint's too) and
// transport errors (an attempt that timed out included) are; the client's
// own verdicts (a response check's, a body over the limit) are not. A wait the server
// asks for (Retry-After, RetryInfo) above MaxRetryAfter is not waited for.
func (c *Client) retryDelay(err error, attempt int) (time.Duration, bool) {
	var (
		ae *Error
		ce *checkError
	)
	switch {
	case errors.As(err, &ae):
		if !retryableStatus(ae.HTTPStatus) {
			return 0, false
		}
		if d, ok := serverDelay(ae.Header, ae.Details, c.now()); ok {
			return d, d <= c.retry.MaxRetryAfter
		}
	case errors.As(err, &ce), errors.Is(err, ErrResponseTooLarge):
		return 0, false
	}
	return c.backoff(attempt), true
}

// checkError is the verdict of a response check: final, never retried.
type checkError struct{ err error }

func (e *checkError) Error() string { return e.err.Error() }
func (e *checkError) Unwrap() error { return e.err }

// errAttemptTimeout is the cause of an attempt's context that ran out of
// Timeouts.Attempt.
var errAttemptTimeout = errors.New("torq: attempt timed out")

// attempt sends the request once (twice when a cached token is refused)
// within the attempt timeout and returns the body of a 2xx answer.
func (c *Client) attempt(ctx context.Context, newReq func(context.Context) (*http.Request, error)) ([]byte, error) {
	actx := ctx
	if c.attemptTimeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeoutCause(ctx, c.attemptTimeout, errAttemptTimeout)
		defer cancel() // after the body is read: checkResponse reads it
	}
	body, err := c.send(actx, newReq)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(actx), errAttemptTimeout) {
		// Not the caller's deadline: the attempt's, and worth a retry.
		return nil, fmt.Errorf("torq: attempt timed out after %v: %w", c.attemptTimeout, err)
	}
	return body, err
}

// send gets a token, sends the request and checks the answer; a 401 or
// Torq's redirect on a cached token renews it and sends the request once
// more.
func (c *Client) send(ctx context.Context, newReq func(context.Context) (*http.Request, error)) ([]byte, error) {
	if c.tokens == nil {
		req, resp, err := c.roundTrip(ctx, newReq, c.static)
		if err != nil {
			return nil, err
		}
		return c.checkResponse(req, resp)
	}
	tok, err := c.tokens.token(ctx)
	if err != nil {
		return nil, err
	}
	req, resp, err := c.roundTrip(ctx, newReq, tok)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized || isRedirect(resp.StatusCode) {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxErrorBodyBytes))
		_ = resp.Body.Close()
		c.tokens.invalidate(tok)
		if tok, err = c.tokens.token(ctx); err != nil {
			return nil, err
		}
		if req, resp, err = c.roundTrip(ctx, newReq, tok); err != nil {
			return nil, err
		}
	}
	return c.checkResponse(req, resp)
}

// roundTrip builds the request and sends it with the bearer token tok
// through the base transport.
func (c *Client) roundTrip(ctx context.Context, newReq func(context.Context) (*http.Request, error), tok string) (*http.Request, *http.Response, error) {
	req, err := newReq(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("torq: build request: %w", err)
	}
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := c.hc.Do(req)
	return req, resp, err
}

// checkResponse reads the answer through the size limits and closes it,
// runs the response check, and turns every answer other than 2xx into an
// *Error (go-github's CheckResponse).
func (c *Client) checkResponse(req *http.Request, resp *http.Response) ([]byte, error) {
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	var body []byte
	if ok {
		var err error
		if body, err = readBody(resp.Body, MaxResponseBodyBytes); err != nil {
			return nil, err
		}
	} else {
		// What arrived is kept even if the rest fails to arrive: the
		// status is the information.
		body, _ = readErrorBody(resp.Body)
	}
	if c.check != nil && !isRedirect(resp.StatusCode) && (ok || isJSON(resp.Header.Get("Content-Type"))) {
		sent := req.Clone(req.Context())
		sent.Header.Del("Authorization")
		if err := c.check(&CheckedResponse{
			Request:    sent,
			Path:       strings.TrimPrefix(req.URL.EscapedPath(), c.basePath),
			StatusCode: resp.StatusCode,
			Header:     resp.Header,
			Body:       body,
		}); err != nil {
			return nil, &checkError{err}
		}
	}
	if !ok {
		return nil, newError(resp.StatusCode, resp.Header, body)
	}
	return body, nil
}

func isRedirect(status int) bool { return status >= 300 && status < 400 }

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

func retryableStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
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

// backoff draws the wait before attempt+1: uniform in [0, bound], the bound
// doubling from InitialBackoff up to MaxBackoff ("full jitter").
func (c *Client) backoff(attempt int) time.Duration {
	bound := c.retry.InitialBackoff
	for i := 1; i < attempt && bound < c.retry.MaxBackoff; i++ {
		bound *= 2
	}
	bound = min(bound, c.retry.MaxBackoff)
	return time.Duration(c.rand(int64(bound) + 1))
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
