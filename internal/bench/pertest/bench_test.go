package pertest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/torqapi/integrations/api"
	"github.com/torqapi/integrations/api/apitest"
)

// iterTB is one benchmark iteration seen as one test: what apitest
// registers with Cleanup runs at the iteration's end (done), as it would
// at a test's end, instead of piling up until the benchmark ends.
type iterTB struct {
	testing.TB
	cleanups []func()
}

// Cleanup records f for done.
func (t *iterTB) Cleanup(f func()) { t.cleanups = append(t.cleanups, f) }

// done runs the recorded cleanups, last first, as testing does.
func (t *iterTB) done() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
	t.cleanups = t.cleanups[:0]
}

// apitestOnce is one test's use of apitest: a server, its client (client
// credentials, so a token request too) and one list, then the cleanup.
func apitestOnce(tb *iterTB, ctx context.Context) (int, error) {
	defer tb.done()
	srv := apitest.NewServer(tb)
	list, err := srv.Client().ListIntegrations(ctx, api.ListIntegrationsParams{})
	return len(list), err
}

// httptestOnce is the least an HTTP test pays: httptest.NewServer with a
// handler writing fixed bytes, its client, one GET read to the end, Close.
func httptestOnce(ctx context.Context, body []byte) (int, error) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/public/v1alpha/integrations", nil)
	if err != nil {
		return 0, err
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	return int(n), err
}

// defaultBody is the default workspace's list as the stub answers it, so
// the static handler writes the same bytes.
func defaultBody(tb testing.TB) []byte {
	srv := apitest.NewServer(tb)
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1alpha/integrations", nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("default list: %d, %v", resp.StatusCode, err)
	}
	return body
}

// BenchmarkPerTest is the pair: apitest (the stub in-process) and
// httptest (a static handler). make bench divides the first by the second,
// round by round.
func BenchmarkPerTest(b *testing.B) {
	ctx := context.Background()
	body := defaultBody(b)
	b.Run("apitest", func(b *testing.B) {
		tb := &iterTB{TB: b}
		b.ReportAllocs()
		for b.Loop() {
			if n, err := apitestOnce(tb, ctx); err != nil || n == 0 {
				b.Fatalf("list: %d integrations, %v", n, err)
			}
		}
	})
	b.Run("httptest", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if n, err := httptestOnce(ctx, body); err != nil || n != len(body) {
				b.Fatalf("GET: %d bytes, %v", n, err)
			}
		}
	})
}

// TestPairDoesTheWork: each half of the pair does what its name says and
// apitest's cleanups (closing its server) run at the
// iteration's end, not the test's.
func TestPairDoesTheWork(t *testing.T) {
	ctx := context.Background()
	body := defaultBody(t)
	tb := &iterTB{TB: t}
	for range 3 {
		n, err := apitestOnce(tb, ctx)
		if err != nil || n == 0 {
			t.Fatalf("apitest: %d integrations, %v", n, err)
		}
		if len(tb.cleanups) != 0 {
			t.Fatalf("%d cleanups left after an iteration", len(tb.cleanups))
		}
	}
	n, err := httptestOnce(ctx, body)
	if err != nil || n != len(body) {
		t.Fatalf("httptest: %d of %d bytes, %v", n, len(body), err)
	}
}
