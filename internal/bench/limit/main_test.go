package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHandler(t *testing.T) {
	body := []byte(`{"integrations":[]}`)
	h, err := newHandler(body, []string{"Content-Type: application/json", "X-Request-Id: fixed"}, true)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/public/v1alpha/integrations", 200, string(body)},
		{"GET", "/v1alpha/integrations", 200, string(body)},
		{"GET", "/healthz", 200, "ok\n"},
		{"GET", "/nope", 404, "404 page not found\n"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status || rec.Body.String() != tt.body {
				t.Fatalf("got %d %q, want %d %q", rec.Code, rec.Body, tt.status, tt.body)
			}
			if tt.status == 200 && strings.Contains(tt.path, "integrations") {
				if got := rec.Header().Get("Content-Type"); got != "application/json" {
					t.Errorf("Content-Type = %q", got)
				}
				if got := rec.Header().Get("Content-Length"); got != "19" {
					t.Errorf("Content-Length = %q", got)
				}
				if got := rec.Header().Get("X-Request-Id"); got != "fixed" {
					t.Errorf("X-Request-Id = %q", got)
				}
			}
		})
	}
}

func TestHandlerBadHeader(t *testing.T) {
	if _, err := newHandler(nil, []string{"no colon"}, true); err == nil {
		t.Fatal("want an error for a header without a colon")
	}
}

// lineChan hands each write from run's goroutine to the test through a
// channel.
type lineChan struct {
	ch chan string
}

func (s *lineChan) Write(p []byte) (int, error) { s.ch <- string(p); return len(p), nil }

func TestRun(t *testing.T) {
	file := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(file, []byte(`{"integrations":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &lineChan{ch: make(chan string, 1)}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--body", file, "--header", "Content-Type: application/json"}, out) }()
	var line string
	select {
	case line = <-out.ch:
	case err := <-done:
		t.Fatalf("run ended early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no address printed")
	}
	url := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	resp, err := http.Get(url + "/v1alpha/integrations")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, []byte(`{"integrations":[]}`)) {
		t.Fatalf("body %q", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
}

func TestRunNeedsBody(t *testing.T) {
	if err := run(context.Background(), nil, io.Discard); err == nil {
		t.Fatal("want an error without --body")
	}
}

func TestHandlerNoContentLength(t *testing.T) {
	h, err := newHandler([]byte(`{}`), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1alpha/integrations", nil))
	if got := rec.Header().Get("Content-Length"); got != "" {
		t.Fatalf("Content-Length = %q, want none", got)
	}
}

// TestRunUnknownFlag: the limit takes only the flags it documents (it had
// a --timeouts flag nobody used; it is gone).
func TestRunUnknownFlag(t *testing.T) {
	file := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(file, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"--body", file, "--timeouts", "idle"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "timeouts") {
		t.Fatalf("err = %v, want flag provided but not defined: -timeouts", err)
	}
}
