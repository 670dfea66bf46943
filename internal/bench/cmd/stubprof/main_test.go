package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, pw); pw.Close() }()
	urls := map[string]string{}
	sc := bufio.NewScanner(pr)
	for len(urls) < 2 && sc.Scan() {
		what, url, _ := strings.Cut(sc.Text(), " on ")
		urls[what] = url
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	tests := []struct {
		name, url, token string
		status           int
	}{
		{"list", urls["stub"] + "/v1alpha/integrations", "torq-stub-token", http.StatusOK},
		{"no token", urls["stub"] + "/v1alpha/integrations", "", http.StatusUnauthorized},
		{"pprof", urls["pprof"] + "/debug/pprof/", "", http.StatusOK},
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
		})
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
