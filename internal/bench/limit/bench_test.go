package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/torqapi/integrations/internal/stub"
)

// BenchmarkServeList is cmd/torq-stub's BenchmarkServeList for the limit:
// the same loopback client asks the limit, serving the stub's default list
// bytes and headers, so the two profiles (their net/http.(*conn).serve
// samples per request) compare the servers' own costs.
func BenchmarkServeList(b *testing.B) {
	s, err := stub.NewHandler(stub.Config{})
	if err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/v1alpha/integrations", nil)
	r.Header.Set("Authorization", "Bearer torq-stub-token")
	s.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		b.Fatalf("stub answered %d", rec.Code)
	}
	body, header := rec.Body.Bytes(), rec.Header()

	file := filepath.Join(b.TempDir(), "body.json")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		b.Fatal(err)
	}
	args := []string{"--addr", "127.0.0.1:0", "--body", file}
	for k, vs := range header {
		if k == "Date" || k == "Content-Length" {
			continue
		}
		for _, v := range vs {
			args = append(args, "--header", k+": "+v)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, pw); pw.Close() }()
	sc := bufio.NewScanner(pr)
	if !sc.Scan() {
		b.Fatal("no address printed")
	}
	base := strings.TrimPrefix(strings.TrimSpace(sc.Text()), "listening on ")
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, MaxConnsPerHost: 16}, Timeout: 10 * time.Second}
	req, err := http.NewRequest(http.MethodGet, base+"/v1alpha/integrations", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer torq-stub-token")
	b.SetParallelism(8) // 16 goroutines on 2 cores, as for the stub
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
