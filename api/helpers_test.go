package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/torqapi/integrations/api"
	"github.com/torqapi/integrations/api/apicheck"
)

// strictCheck is the option that holds every answer against the contract,
// failing the call on a violation.
func strictCheck(t testing.TB) api.Option {
	t.Helper()
	chk, err := apicheck.New()
	if err != nil {
		t.Fatal(err)
	}
	return chk.Option()
}

// fakeTorq is a small misbehaving server: the test decides every answer of
// the API route and of the token endpoint, and the server counts calls.
type fakeTorq struct {
	srv *httptest.Server

	mu         sync.Mutex
	apiCalls   int
	tokenCalls int
	other      int
	auths      []string
}

type answer func(w http.ResponseWriter, r *http.Request, n int)

func newFakeTorq(t *testing.T, apiAnswer, tokenAnswer answer) *fakeTorq {
	t.Helper()
	f := &fakeTorq{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		var n int
		var h answer
		switch r.URL.Path {
		case "/public/v1alpha/integrations":
			f.apiCalls++
			f.auths = append(f.auths, r.Header.Get("Authorization"))
			n, h = f.apiCalls, apiAnswer
		case "/v1/auth/token":
			f.tokenCalls++
			n, h = f.tokenCalls, tokenAnswer
		default:
			f.other++
		}
		f.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r, n)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTorq) base() string     { return f.srv.URL + "/public" }
func (f *fakeTorq) tokenURL() string { return f.srv.URL + "/v1/auth/token" }

func (f *fakeTorq) counts() (apiCalls, tokenCalls, other int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.apiCalls, f.tokenCalls, f.other
}

// client returns a client on f with a static token unless opts bring
// client credentials, and with a fake clock so that no test waits.
func (f *fakeTorq) client(t *testing.T, clk *fakeClock, opts ...api.Option) *api.Client {
	t.Helper()
	all := []api.Option{api.WithBaseURL(f.base()), api.WithTokenURL(f.tokenURL()), api.WithClock(clk.Now), api.WithSleep(clk.Sleep)}
	c, err := api.NewClient(append(all, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// fakeClock is the client's clock in tests: Sleep returns at once and moves
// the clock on.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// writeJSON writes a JSON answer.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// tokenOK answers the token endpoint with token tok valid for ttl seconds.
func tokenOK(tok func(n int) string, ttl int) answer {
	return func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusOK, `{"access_token":"`+tok(n)+`","token_type":"Bearer","expires_in":`+itoa(ttl)+`}`)
	}
}

func itoa(n int) string {
	return strconv.Itoa(n)
}

const oneIntegration = `{"integrations":[{"id":"d7639fb8-8037-4ce2-80e9-c50bc3345c5a","name":"my_integration","display_name":"My Integration","type_id":"webhook","created_at":"2022-03-09T08:40:18Z","sharing_data":{"direction":"not_shared"}}]}`

func listOK(w http.ResponseWriter, _ *http.Request, _ int) {
	writeJSON(w, http.StatusOK, oneIntegration)
}
