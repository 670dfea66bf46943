package api_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/torqapi/integrations/api"
)

// TestTokenWaitHonoursContext: while one call's token fetch hangs, another
// call waiting for that token ends at its own deadline.
func TestTokenWaitHonoursContext(t *testing.T) {
	t.Parallel()
	reached := make(chan struct{}, 1)
	release := make(chan struct{})
	f := newFakeTorq(t, listOK, func(w http.ResponseWriter, r *http.Request, _ int) {
		// Read the form: the server notices a closed connection (and
		// cancels r.Context()) only once the body is consumed.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case reached <- struct{}{}:
		default:
		}
		select { // a token endpoint that hangs
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) }) // registered after the server's: runs before it closes
	c := f.client(t, newFakeClock(), api.WithClientCredentials("id", "secret"), api.WithRetry(api.RetryPolicy{MaxAttempts: 1}))

	first, cancelFirst := context.WithCancel(context.Background())
	defer cancelFirst()
	firstDone := make(chan error, 1)
	go func() {
		_, err := c.ListIntegrations(first, api.ListIntegrationsParams{})
		firstDone <- err
	}()
	<-reached // the first call's fetch is in flight

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	second := make(chan error, 1)
	go func() {
		_, err := c.ListIntegrations(ctx, api.ListIntegrationsParams{})
		second <- err
	}()
	select {
	case err := <-second:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("second call: error = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("second call returned after %v, its deadline was 300ms", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("second call still waiting 5s after its 300ms deadline: it waits for the other call's fetch")
	}
	cancelFirst()
	if err := <-firstDone; !errors.Is(err, context.Canceled) {
		t.Errorf("first call: error = %v, want context.Canceled", err)
	}
	if _, tokenCalls, _ := f.counts(); tokenCalls != 1 {
		t.Errorf("%d token requests, want 1 (the waiting call does not fetch its own)", tokenCalls)
	}
}

// TestTokenFetchSharedByWaiters: callers that wait for a fetch in flight
// use its token instead of fetching their own.
func TestTokenFetchSharedByWaiters(t *testing.T) {
	t.Parallel()
	reached := make(chan struct{})
	release := make(chan struct{})
	f := newFakeTorq(t, listOK, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			close(reached)
			<-release
		}
		tokenOK(func(n int) string { return "at-" + itoa(n) }, 3600)(w, r, n)
	})
	c := f.client(t, newFakeClock(), api.WithClientCredentials("id", "secret"))
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
			errs <- err
		}()
	}
	<-reached
	time.Sleep(50 * time.Millisecond) // let the others queue behind the fetch; not a timing assertion
	close(release)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if _, tokenCalls, _ := f.counts(); tokenCalls != 1 {
		t.Errorf("%d token requests, want 1", tokenCalls)
	}
}

// TestTimeoutsEndHangingAttempts: with a context that never ends, a server
// that never answers or whose body trickles costs one attempt timeout per
// attempt, and the attempts are bounded.
func TestTimeoutsEndHangingAttempts(t *testing.T) {
	t.Parallel()
	hang := func(w http.ResponseWriter, r *http.Request, _ int) { <-r.Context().Done() }
	trickle := func(status int) answer {
		return func(w http.ResponseWriter, r *http.Request, _ int) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"integrations":[`))
			for {
				if _, err := w.Write([]byte(" ")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}
	}
	tests := []struct {
		name     string
		answer   answer
		timeouts api.Timeouts
		wantIn   string
	}{
		{"no answer, response header timeout", hang, api.Timeouts{ResponseHeader: 100 * time.Millisecond}, "timeout awaiting response headers"},
		{"no answer, attempt timeout", hang, api.Timeouts{Attempt: 200 * time.Millisecond}, "attempt timed out after 200ms"},
		{"200 whose body trickles", trickle(200), api.Timeouts{Attempt: 200 * time.Millisecond}, "attempt timed out after 200ms"},
		{"503 whose body trickles", trickle(503), api.Timeouts{Attempt: 200 * time.Millisecond}, "torq: 503 UNAVAILABLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeTorq(t, tt.answer, nil)
			c := f.client(t, newFakeClock(), api.WithBearerToken("tok-123456"), api.WithTimeouts(tt.timeouts),
				api.WithRetry(api.RetryPolicy{MaxAttempts: 2}))
			done := make(chan error, 1)
			go func() {
				_, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tt.wantIn) {
					t.Errorf("error = %v, want it to contain %q", err, tt.wantIn)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the call still runs after 10s")
			}
			if apiCalls, _, _ := f.counts(); apiCalls != 2 {
				t.Errorf("%d attempts, want 2 (timed-out attempts are retried, within MaxAttempts)", apiCalls)
			}
		})
	}
}

func TestDefaultTimeouts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		opts   []api.Option
		want   api.Timeouts
		header time.Duration // the transport's ResponseHeaderTimeout
	}{
		{"defaults", nil, api.Timeouts{Connect: 10 * time.Second, ResponseHeader: 30 * time.Second, Attempt: 60 * time.Second}, 30 * time.Second},
		{"one changed", []api.Option{api.WithTimeouts(api.Timeouts{ResponseHeader: 5 * time.Second})},
			api.Timeouts{Connect: 10 * time.Second, ResponseHeader: 5 * time.Second, Attempt: 60 * time.Second}, 5 * time.Second},
		{"one turned off", []api.Option{api.WithTimeouts(api.Timeouts{ResponseHeader: -1})},
			api.Timeouts{Connect: 10 * time.Second, ResponseHeader: -1, Attempt: 60 * time.Second}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := api.NewClient(append([]api.Option{api.WithBearerToken("tok-123456")}, tt.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			got, tr := api.EffectiveTimeouts(c)
			if got != tt.want {
				t.Errorf("timeouts = %+v, want %+v", got, tt.want)
			}
			if tr == nil || tr.ResponseHeaderTimeout != tt.header || tr.TLSHandshakeTimeout != tt.want.Connect || tr.DialContext == nil {
				t.Errorf("transport = %+v, want ResponseHeaderTimeout %v and TLSHandshakeTimeout %v", tr, tt.header, tt.want.Connect)
			}
		})
	}
}

// TestFailureIsNeverOK: whatever the status and body, a failed call's
// *Error does not carry CodeOK.
func TestFailureIsNeverOK(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		apiAnswer   answer
		tokenAnswer answer
		wantStatus  int
		wantCode    api.Code
	}{
		{"token endpoint 200 with invalid_client", listOK, func(w http.ResponseWriter, _ *http.Request, _ int) {
			writeJSON(w, 200, `{"error":"invalid_client","error_description":"bad secret"}`)
		}, 200, api.CodeUnauthenticated},
		{"token endpoint 200 with another error", listOK, func(w http.ResponseWriter, _ *http.Request, _ int) {
			writeJSON(w, 200, `{"error":"server_error"}`)
		}, 200, api.CodeUnknown},
		{"token endpoint 500 with a Status of code 0", listOK, func(w http.ResponseWriter, _ *http.Request, _ int) {
			writeJSON(w, 500, `{"code":0,"message":"fine, really"}`)
		}, 500, api.CodeInternal},
		{"API 403 with a Status of code 0", func(w http.ResponseWriter, _ *http.Request, _ int) {
			writeJSON(w, 403, `{"code":0,"message":"fine, really"}`)
		}, tokenOK(func(int) string { return "at-1" }, 3600), 403, api.CodePermissionDenied},
		{"API 418 with a Status of code 0", func(w http.ResponseWriter, _ *http.Request, _ int) {
			writeJSON(w, 418, `{"code":0,"message":"fine, really"}`)
		}, tokenOK(func(int) string { return "at-1" }, 3600), 418, api.CodeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeTorq(t, tt.apiAnswer, tt.tokenAnswer)
			c := f.client(t, newFakeClock(), api.WithClientCredentials("id", "secret"), api.WithRetry(api.RetryPolicy{MaxAttempts: 1}))
			_, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
			var e *api.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *api.Error", err, err)
			}
			if e.HTTPStatus != tt.wantStatus || e.Code != tt.wantCode {
				t.Errorf("got HTTP %d %v (%v), want HTTP %d %v", e.HTTPStatus, e.Code, err, tt.wantStatus, tt.wantCode)
			}
		})
	}
}

// TestUnknownEnumDecodes: without a response check, a sharing direction
// the contract does not know yet is kept and reported invalid, not an
// error.
func TestUnknownEnumDecodes(t *testing.T) {
	t.Parallel()
	f := newFakeTorq(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		writeJSON(w, 200, `{"integrations":[{"id":"d7639fb8-8037-4ce2-80e9-c50bc3345c5a","sharing_data":{"direction":"bidirectional"}},`+
			`{"id":"5b0c3f2e-9a41-4d7e-8c6a-1f2e3d4c5b6a"}]}`)
	}, nil)
	list, err := f.client(t, newFakeClock(), api.WithBearerToken("tok-123456")).ListIntegrations(context.Background(), api.ListIntegrationsParams{})
	if err != nil || len(list) != 2 {
		t.Fatalf("got %v, %v", list, err)
	}
	if d := list[0].SharingData.Direction; d != "bidirectional" || d.Valid() {
		t.Errorf("direction %q, Valid() = %v; want it kept and invalid", d, d.Valid())
	}
	if d := list[1].SharingData.Direction; d != "" || !d.Valid() {
		t.Errorf("absent direction %q, Valid() = %v; want empty and valid (not shared)", d, d.Valid())
	}
	for _, d := range []api.SharingDirection{api.SharingNotShared, api.SharingIncoming, api.SharingOutgoing} {
		if !d.Valid() {
			t.Errorf("%q.Valid() = false", d)
		}
	}
}

// TestImportGraph: a program importing api alone links neither the schema
// validator nor the stub's packages.
func TestImportGraph(t *testing.T) {
	t.Parallel()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the import graph: %v", err)
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 || deps[len(deps)-1] != "github.com/torqapi/integrations/api" {
		t.Fatalf("unexpected go list output: %q", out)
	}
	forbidden := []string{"github.com/getkin/kin-openapi", "github.com/torqapi/integrations/internal/", "go.yaml.in/yaml"}
	for _, dep := range deps {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("api imports %s", dep)
			}
		}
	}
}
