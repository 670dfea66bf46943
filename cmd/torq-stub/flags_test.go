package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConfigFlagErrors checks that a value stub.Config refuses, from a
// flag or its environment twin, is a usage error (exit 2) naming it.
func TestConfigFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"journal size", []string{"--journal-size", "-1"}, nil, "JournalSize"},
		{"expired token", []string{"--expired-token", "500"}, nil, "ExpiredToken"},
		{"error status", []string{"--error-status", "500"}, nil, "ErrorStatus"},
		{"error status env", nil, []string{"TORQ_STUB_ERROR_STATUS", "504"}, "ErrorStatus"},
		{"control addr", []string{"--control-addr", "nope"}, nil, "--control-addr"},
		{"control addr file alone", []string{"--control-addr-file", "x"}, nil, "--control-addr-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), append([]string{"--addr", "127.0.0.1:0"}, tc.args...), env(tc.env...), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) || exitCode(err, io.Discard) != 2 {
				t.Errorf("got %v (exit %d), want a usage error naming %s", err, exitCode(err, io.Discard), tc.want)
			}
		})
	}
}

// waitFile polls path until it holds a line.
func waitFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(b), "\n") {
			return strings.TrimSuffix(string(b), "\n")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s was never written", path)
	return ""
}

// TestAddrFilesAndControlAddr starts the stub with --control-addr: the
// control API answers on its own listener only, and both addresses are in
// their files.
func TestAddrFilesAndControlAddr(t *testing.T) {
	dir := t.TempDir()
	addrFile, ctlFile := filepath.Join(dir, "addr"), filepath.Join(dir, "control-addr")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--control-addr", "127.0.0.1:0",
			"--addr-file", addrFile, "--control-addr-file", ctlFile, "--quiet"}, env(), io.Discard, io.Discard)
	}()
	api, ctl := waitFile(t, addrFile), waitFile(t, ctlFile)
	status := func(url string) int {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status("http://" + ctl + "/__stub/workspaces"); got != http.StatusOK {
		t.Errorf("control listener: %d, want 200", got)
	}
	if got := status("http://" + api + "/__stub/workspaces"); got == http.StatusOK {
		t.Errorf("the API listener serves the control API too")
	}
	if got := status("http://" + api + "/healthz"); got != http.StatusOK {
		t.Errorf("API listener healthz: %d", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + ctl + "/__stub/workspaces"); err == nil {
		t.Error("the control listener is still open after shutdown")
	}
}

// TestAccessWarning checks when the start says the control API answers
// loopback clients only.
func TestAccessWarning(t *testing.T) {
	for _, tc := range []struct {
		o    options
		warn bool
	}{
		{options{addr: "127.0.0.1:8080"}, false},
		{options{addr: "[::1]:8080"}, false},
		{options{addr: "localhost:8080"}, false},
		{options{addr: ":8080"}, true},
		{options{addr: "0.0.0.0:8080"}, true},
		{options{addr: "0.0.0.0:8080", controlToken: "t"}, false},
		{options{addr: "0.0.0.0:8080", controlOpen: true}, false},
		{options{addr: "0.0.0.0:8080", controlAddr: "127.0.0.1:9"}, false},
		{options{addr: "127.0.0.1:8080", controlAddr: ":9"}, true},
	} {
		if got := accessWarning(&tc.o) != ""; got != tc.warn {
			t.Errorf("%+v: warning %v, want %v", tc.o, got, tc.warn)
		}
	}
}

// TestBannerPastes checks the banner's try line: with the demo token it
// carries it; with the user's own it expands $TORQ_TOKEN (double quotes)
// and never prints the token; counts are pluralised.
func TestBannerPastes(t *testing.T) {
	dir := t.TempDir()
	one := filepath.Join(dir, "one.json")
	if err := os.WriteFile(one, []byte(`{"integrations":[{"id":"d7639fb8-8037-4ce2-80e9-c50bc3345c5a","name":"jira_prod","type_id":"jira","created_at":"2022-03-09T08:40:18Z","sharing_data":{"direction":"not_shared"}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var demo, own bytes.Buffer
	banner(&demo, &options{clientID: "c", clientSecret: "s"}, "http://127.0.0.1:1", 14)
	banner(&own, &options{tokensSet: true, fixtures: one, clientID: "c", clientSecret: "s"}, "http://127.0.0.1:1", 1)
	for _, want := range []string{"curl -s -H 'Authorization: Bearer torq-stub-token' http://127.0.0.1:1/public/v1alpha/integrations", "14 integrations"} {
		if !strings.Contains(demo.String(), want) {
			t.Errorf("demo banner lacks %q:\n%s", want, demo.String())
		}
	}
	for _, want := range []string{`curl -s -H "Authorization: Bearer $TORQ_TOKEN" http://127.0.0.1:1/public/v1alpha/integrations`, "1 integration from"} {
		if !strings.Contains(own.String(), want) {
			t.Errorf("banner with --token lacks %q:\n%s", want, own.String())
		}
	}
	if strings.Contains(own.String(), "'Authorization: Bearer $") || strings.Contains(own.String(), "1 integrations") {
		t.Errorf("banner with --token:\n%s", own.String())
	}
}
