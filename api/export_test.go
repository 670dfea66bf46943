package api

import (
	"context"
	"net/http"
	"time"
)

// Test seams, compiled into the package only for its tests.

// WithClock sets the clock the client reads (token expiry, Retry-After
// dates, context deadlines).
func WithClock(now func() time.Time) Option {
	return func(c *config) error { c.now = now; return nil }
}

// WithSleep replaces the wait between attempts.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *config) error { c.sleep = sleep; return nil }
}

// WithRand replaces the jitter source (rand.Int64N).
func WithRand(f func(n int64) int64) Option {
	return func(c *config) error { c.rand = f; return nil }
}

// WithLimiter replaces the rate limiter of WithRateLimit.
func WithLimiter(w interface{ Wait(context.Context) error }) Option {
	return func(c *config) error { c.limiter = w; return nil }
}

// EffectiveTimeouts returns the timeouts c applies, defaults filled in, and
// its base transport when it is the client's own.
func EffectiveTimeouts(c *Client) (Timeouts, *http.Transport) {
	tr, _ := c.hc.Transport.(*http.Transport)
	return c.timeouts, tr
}
