package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/torqapi/integrations/internal/auth"
	"github.com/torqapi/integrations/internal/testutil"
	"github.com/torqapi/integrations/internal/version"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   func(string) string
		check func(*options) bool
		bad   bool
	}{
		{name: "defaults", check: func(o *options) bool {
			return o.addr == "127.0.0.1:8080" && o.validate == "strict" && o.logFormat == "text" && o.tokens == nil &&
				o.clientID == auth.DemoClientID && o.tokenTTL == time.Hour && !o.tokensSet && !o.secretWasSet
		}},
		{name: "flags", args: []string{"--addr", "127.0.0.1:0", "--token", "a", "--token=b", "--denied-token", "c", "--latency", "50ms-200ms",
			"--error-rate", "0.25", "--rate-limit", "50", "--validate-responses", "warn", "--log-format", "json", "--quiet", "--token-ttl", "5m", "--client-secret", "s"},
			check: func(o *options) bool {
				return o.addr == "127.0.0.1:0" && slices.Equal(o.tokens, []string{"a", "b"}) && slices.Equal(o.denied, []string{"c"}) &&
					o.latency.min == 50*time.Millisecond && o.latency.max == 200*time.Millisecond && o.errorRate == 0.25 &&
					o.rateLimit == 50 && o.validate == "warn" && o.logFormat == "json" && o.quiet && o.tokenTTL == 5*time.Minute &&
					o.tokensSet && o.secretWasSet
			}},
		{name: "env twins", env: env("TORQ_STUB_RATE_LIMIT", "7", "TORQ_STUB_TOKEN", "x, y", "TORQ_STUB_LATENCY", "10ms", "TORQ_STUB_QUIET", "true",
			"TORQ_STUB_VALIDATE_RESPONSES", "off", "TORQ_STUB_SIGNING_KEY", "0123456789abcdef", "TORQ_STUB_FIXTURES", "f.json"),
			check: func(o *options) bool {
				return o.rateLimit == 7 && slices.Equal(o.tokens, []string{"x", "y"}) && o.latency.min == 10*time.Millisecond &&
					o.latency.max == 10*time.Millisecond && o.quiet && o.validate == "off" && o.signingKey == "0123456789abcdef" &&
					o.fixtures == "f.json" && o.tokensSet
			}},
		{name: "flags win over env", args: []string{"--rate-limit", "3", "--token", "flag"}, env: env("TORQ_STUB_RATE_LIMIT", "7", "TORQ_STUB_TOKEN", "env"),
			check: func(o *options) bool { return o.rateLimit == 3 && slices.Equal(o.tokens, []string{"flag"}) }},
		{name: "empty env is unset", env: env("TORQ_STUB_ADDR", ""), check: func(o *options) bool { return o.addr == "127.0.0.1:8080" }},
		{name: "unknown flag", args: []string{"--nope"}, bad: true},
		{name: "argument", args: []string{"serve"}, bad: true},
		{name: "watch without fixtures", args: []string{"--watch"}, bad: true},
		{name: "watch", args: []string{"--watch", "--fixtures", "f.yaml"}, check: func(o *options) bool { return o.watch && o.fixtures == "f.yaml" }},
		{name: "bad latency", args: []string{"--latency", "fast"}, bad: true},
		{name: "inverted latency", args: []string{"--latency", "200ms-50ms"}, bad: true},
		{name: "bad error rate", args: []string{"--error-rate", "1.5"}, bad: true},
		{name: "bad rate limit", args: []string{"--rate-limit", "-1"}, bad: true},
		{name: "bad mode", args: []string{"--validate-responses", "loose"}, bad: true},
		{name: "bad log format", args: []string{"--log-format", "xml"}, bad: true},
		{name: "short signing key", args: []string{"--signing-key", "short"}, bad: true},
		{name: "bad ttl", args: []string{"--token-ttl", "0s"}, bad: true},
		{name: "bad addr", args: []string{"--addr", "8080"}, bad: true},
		{name: "empty token", args: []string{"--token", ""}, bad: true},
		{name: "bad env", env: env("TORQ_STUB_ERROR_RATE", "lots"), bad: true},
		{name: "bad env bool", env: env("TORQ_STUB_QUIET", "maybe"), bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := tt.env
			if getenv == nil {
				getenv = env()
			}
			o, err := parse(tt.args, getenv, io.Discard)
			if tt.bad {
				if !errors.Is(err, errUsage) {
					t.Fatalf("parse = %v, want a usage error", err)
				}
				if code := exitCode(err, io.Discard); code != 2 {
					t.Errorf("exit code %d, want 2", code)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if !tt.check(o) {
				t.Errorf("options %+v", o)
			}
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--version"}, env(), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if out.String() != "torq-stub "+version.String()+"\n" {
		t.Errorf("--version printed %q", out.String())
	}
	out.Reset()
	err := run(context.Background(), []string{"--help"}, env(), &out, io.Discard)
	if !errors.Is(err, flag.ErrHelp) || exitCode(err, io.Discard) != 0 {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{"Examples:", "--rate-limit N", "[$TORQ_STUB_RATE_LIMIT]", "[$TORQ_STUB_DENIED_TOKEN]", "curl -s -H 'Authorization: Bearer torq-stub-token'"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	var stderr bytes.Buffer
	if code := exitCode(run(context.Background(), []string{"--bogus"}, env(), io.Discard, io.Discard), &stderr); code != 2 || !strings.Contains(stderr.String(), "bogus") {
		t.Errorf("bad flag: exit %d, %q", code, stderr.String())
	}
}

// syncBuffer collects what the server prints while the test reads it.
// syncBuffer is the tests' concurrent-safe log buffer.
type syncBuffer = testutil.Buffer

var urlRE = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)/public`)

// start runs the program until the test ends and returns its base URL.
func start(t *testing.T, args []string, stdout, stderr *syncBuffer) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, env(), stdout, stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("run did not return after cancel")
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := urlRE.FindStringSubmatch(stdout.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("run returned %v; stderr: %s", err, stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatalf("no URL printed: %q", stdout.String())
	return ""
}

func getList(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b
}

func TestServe(t *testing.T) {
	var stdout, stderr syncBuffer
	base := start(t, []string{"--addr", "127.0.0.1:0"}, &stdout, &stderr)
	banner := stdout.String()
	for _, want := range []string{
		"curl -s -H 'Authorization: Bearer torq-stub-token' " + base + "/public/v1alpha/integrations",
		auth.DemoClientID, auth.DemoClientSecret, base + "/v1/auth/token",
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	code, body := getList(t, base+"/public/v1alpha/integrations?type_id=webhook", auth.DemoToken)
	if code != 200 || !json.Valid(body) || !strings.Contains(string(body), `"type_id":"webhook"`) {
		t.Errorf("list: %d %s", code, body)
	}
}

func TestBannerHidesUserCredentials(t *testing.T) {
	var stdout, stderr syncBuffer
	base := start(t, []string{"--addr", "127.0.0.1:0", "--token", "my-own-token-1", "--client-secret", "my-own-secret-2"}, &stdout, &stderr)
	if code, _ := getList(t, base+"/v1alpha/integrations", "my-own-token-1"); code != 200 {
		t.Errorf("own token: %d", code)
	}
	out := stdout.String() + stderr.String()
	for _, secret := range []string{"my-own-token-1", "my-own-secret-2", auth.DemoClientSecret} {
		if strings.Contains(out, secret) {
			t.Errorf("output shows %q:\n%s", secret, out)
		}
	}
}

func TestReloadOnSIGHUP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fixtures.json")
	one := `{"integrations":[{"id":"d7639fb8-8037-4ce2-80e9-c50bc3345c5a","name":"my_integration","display_name":"My Integration","type_id":"webhook"}]}`
	two := `{"integrations":[{"id":"d7639fb8-8037-4ce2-80e9-c50bc3345c5a","name":"a","display_name":"A","type_id":"webhook"},{"id":"5b0c3f2e-9a41-4d7e-8c6a-1f2e3d4c5b6a","name":"b","display_name":"B","type_id":"slack"}]}`
	if err := os.WriteFile(path, []byte(one), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	base := start(t, []string{"--addr", "127.0.0.1:0", "--fixtures", path, "--quiet"}, &stdout, &stderr)
	count := func() int {
		_, body := getList(t, base+"/public/v1alpha/integrations", auth.DemoToken)
		var l struct{ Integrations []json.RawMessage }
		_ = json.Unmarshal(body, &l)
		return len(l.Integrations)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d integrations, want 1", n)
	}
	hupAndWait := func(logged string) {
		t.Helper()
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(stderr.String(), logged) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the log:\n%s", logged, stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := os.WriteFile(path, []byte(two), 0o644); err != nil {
		t.Fatal(err)
	}
	hupAndWait("msg=reloaded")
	if n := count(); n != 2 {
		t.Fatalf("after SIGHUP %d integrations, want 2", n)
	}
	if err := os.WriteFile(path, []byte(`{"integrations":[{"id":"nope"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	hupAndWait("reload failed")
	if n := count(); n != 2 {
		t.Fatalf("after a bad reload %d integrations, want the old 2", n)
	}
	if strings.Contains(stderr.String(), "msg=request") {
		t.Errorf("--quiet logged request lines:\n%s", stderr.String())
	}
	if lines := strings.Count(stdout.String(), "\n"); lines != 1 {
		t.Errorf("--quiet banner has %d lines:\n%s", lines, stdout.String())
	}
}

func TestStartErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(path, []byte(`{"integrations":[{"id":"nope"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"--addr", "127.0.0.1:0", "--fixtures", path}, env(), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "bad.json") || exitCode(err, io.Discard) != 1 {
		t.Errorf("bad fixtures: %v", err)
	}
}

// TestGracefulShutdown cancels the server while a request is in flight
// (held by --latency): the request still gets its answer.
func TestGracefulShutdown(t *testing.T) {
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--latency", "300ms"}, env(), &stdout, &stderr)
	}()
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if m := urlRE.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("no URL: %s %s", stdout.String(), stderr.String())
	}
	got := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("GET", base+"/public/v1alpha/integrations", nil)
		req.Header.Set("Authorization", "Bearer "+auth.DemoToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- 0
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	// Wait until the request is being served, then shut down.
	time.Sleep(100 * time.Millisecond)
	cancel()
	if code := <-got; code != 200 {
		t.Errorf("in-flight request: %d, want 200", code)
	}
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}

func TestJSONLog(t *testing.T) {
	var stdout, stderr syncBuffer
	base := start(t, []string{"--addr", "127.0.0.1:0", "--log-format", "json"}, &stdout, &stderr)
	req, _ := http.NewRequest("GET", base+"/healthz", nil)
	req.Header.Set("X-Request-Id", "json-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(stderr.String(), "json-1") {
		if time.Now().After(deadline) {
			t.Fatalf("no request line: %q", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	var line struct {
		Msg, Method, Path string
		Status            int
		RequestID         string `json:"request_id"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(stderr.String())), &line); err != nil {
		t.Fatalf("not one JSON line: %v: %q", err, stderr.String())
	}
	if line.Msg != "request" || line.Method != "GET" || line.Path != "/healthz" || line.Status != 200 || line.RequestID != "json-1" {
		t.Errorf("%+v", line)
	}
}
