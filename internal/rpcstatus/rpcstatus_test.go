package rpcstatus

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/torqapi/integrations/generated"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestHTTPStatusMatchesGateway(t *testing.T) {
	// grpc-gateway runtime.HTTPStatusFromCode.
	want := map[Code]int{
		OK: 200, Canceled: 499, Unknown: 500, InvalidArgument: 400, DeadlineExceeded: 504,
		NotFound: 404, AlreadyExists: 409, PermissionDenied: 403, ResourceExhausted: 429,
		FailedPrecondition: 400, Aborted: 409, OutOfRange: 400, Unimplemented: 501,
		Internal: 500, Unavailable: 503, DataLoss: 500, Unauthenticated: 401, Code(99): 500,
	}
	for c, status := range want {
		if got := c.HTTPStatus(); got != status {
			t.Errorf("%v.HTTPStatus() = %d, want %d", c, got, status)
		}
		if back, ok := CodeForHTTPStatus(status); ok && back.HTTPStatus() != status {
			t.Errorf("CodeForHTTPStatus(%d) = %v, which maps to %d", status, back, back.HTTPStatus())
		}
	}
	if _, ok := CodeForHTTPStatus(418); ok {
		t.Error("CodeForHTTPStatus(418) should not map")
	}
	if Unauthenticated.String() != "UNAUTHENTICATED" || Canceled.String() != "CANCELLED" || Code(42).String() != "CODE(42)" {
		t.Error("String() names are wrong")
	}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantBody   string
		wantHeader map[string]string
	}{
		{"not found", Errorf(NotFound, "Not Found"), 404, `{"code":5,"message":"Not Found","details":[]}`, nil},
		{"unauthenticated adds WWW-Authenticate", Errorf(Unauthenticated, "no"), 401, `{"code":16,"message":"no","details":[]}`,
			map[string]string{"WWW-Authenticate": `Bearer realm="torq"`}},
		{"retry info and header", Errorf(ResourceExhausted, "slow down").WithDetails(RetryInfo(1500*time.Millisecond)).WithHeader("Retry-After", "2"), 429,
			`{"code":8,"message":"slow down","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.500s"}]}`,
			map[string]string{"Retry-After": "2"}},
		{"plain error hides its text", errors.New("secret internal detail"), 500, `{"code":13,"message":"Internal error.","details":[]}`, nil},
		{"wrapped", fmt.Errorf("ctx: %w", Errorf(PermissionDenied, "denied")), 403, `{"code":7,"message":"denied","details":[]}`, nil},
		{"unencodable falls back", (&Error{Code: InvalidArgument, Message: "x"}).WithDetails(anyWith("bad", make(chan int))), 500, fallbackBody, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Write(rec, tt.err)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if rec.Body.String() != tt.wantBody {
				t.Errorf("body = %s, want %s", rec.Body, tt.wantBody)
			}
			for k, v := range tt.wantHeader {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Error("body is not JSON")
			}
		})
	}
}

func TestDurations(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Second: "1s", 1500 * time.Millisecond: "1.500s", 1500 * time.Microsecond: "0.001500s",
		time.Nanosecond: "0.000000001s", -2 * time.Second: "-2s", 0: "0s",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
		back, err := ParseDuration(want)
		if err != nil || back != d {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", want, back, err, d)
		}
	}
	for _, bad := range []string{"1m", "1", "1ms", "", "abc s"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) should fail", bad)
		}
	}
}

func TestWriteKeepsHeadersSetBefore(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("X-Request-Id", "abc")
	e := Errorf(Unimplemented, "Method Not Allowed").WithHeader("Allow", http.MethodGet)
	e.HTTPStatus = http.StatusMethodNotAllowed
	Write(rec, e)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("status = %d, want 405", rec.Code)
	}
	if rec.Header().Get("X-Request-Id") != "abc" || rec.Header().Get("Allow") != "GET" {
		t.Errorf("headers = %v", rec.Header())
	}
}

func anyWith(key string, v any) generatedAny {
	return generatedAny{Type: "x/y", AdditionalProperties: map[string]any{key: v}}
}

type generatedAny = generated.Any

// A shared error (a package-level value such as the stub's "Not Found")
// must survive derivations from many goroutines at once: the builder
// methods return copies, so under -race this test fails if one of them
// writes to the receiver, and the shared value must read as it was built.
func TestBuildersNeverChangeTheReceiver(t *testing.T) {
	shared := Errorf(ResourceExhausted, "slow down").
		WithHeader("Retry-After", "1").
		WithDetails(RetryInfo(time.Second))
	wantBody, err := Marshal(shared)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				v := strconv.Itoa(i*1000 + j)
				e := shared.WithHeader("Retry-After", v).WithHeader("X-Extra", v).
					WithDetails(ErrorInfo("R"+v, "test", nil))
				rec := httptest.NewRecorder()
				Write(rec, e)
				if got := rec.Header().Get("Retry-After"); got != v {
					t.Errorf("derived Retry-After = %q, want %q", got, v)
					return
				}
				rec = httptest.NewRecorder()
				Write(rec, shared)
				rec.Header().Add("Retry-After", "appended by a handler")
			}
		}()
	}
	wg.Wait()
	if got := shared.Header.Values("Retry-After"); len(got) != 1 || got[0] != "1" {
		t.Errorf("shared Retry-After = %q, want [1]", got)
	}
	if shared.Header.Get("X-Extra") != "" {
		t.Errorf("shared error gained X-Extra: %v", shared.Header)
	}
	if body, _ := Marshal(shared); string(body) != string(wantBody) {
		t.Errorf("shared body changed: %d bytes, want %d (%.200s...)", len(body), len(wantBody), body)
	}
}
