package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// BenchmarkServeList runs the stub exactly as the binary does (run: flags,
// buffered text request log to a file, the http.Server and its timeouts)
// and asks it for the default list over loopback from 16 keep-alive
// connections. Under -cpuprofile it shows where a request's time goes in
// the shipped setup, without profiling endpoints in the binary.
func BenchmarkServeList(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logFile, err := os.Create(filepath.Join(b.TempDir(), "stub.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer logFile.Close()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0"}, func(string) string { return "" }, pw, logFile)
		pw.Close()
	}()
	base := ""
	sc := bufio.NewScanner(pr)
	urlRE := regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
	for base == "" && sc.Scan() {
		base = urlRE.FindString(sc.Text())
	}
	if base == "" {
		b.Fatal("no address in the banner")
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: 16, MaxConnsPerHost: 16},
		Timeout:   10 * time.Second,
	}
	req, err := http.NewRequest(http.MethodGet, base+"/v1alpha/integrations", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer torq-stub-token")
	get := func() error {
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Errorf("status %d", resp.StatusCode)
		}
		return err
	}
	if err := get(); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(8) // 16 goroutines on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := get(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
