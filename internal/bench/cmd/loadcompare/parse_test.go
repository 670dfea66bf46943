package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

const wrkOut = `Running 5s test @ http://127.0.0.1:40123/v1alpha/integrations
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   331.05us  120.77us   5.93ms   91.06%
    Req/Sec    48.71k     1.52k   50.89k    78.00%
  Latency Distribution
     50%  310.00us
     75%  350.00us
     90%  420.00us
     99%    1.08ms
  242327 requests in 5.00s, 770.14MB read
Requests/sec:  48465.20
Transfer/sec:    154.02MB
`

func TestParseWrk(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    wrkResult
		wantErr bool
	}{
		{name: "plain", out: wrkOut, want: wrkResult{Requests: 242327, RPS: 48465.20, P50: 310 * time.Microsecond, P99: 1080 * time.Microsecond}},
		{
			name: "errors and slow",
			out: strings.NewReplacer("    1.08ms", "    2.50s", "Requests/sec:", "  Non-2xx or 3xx responses: 12\n  Socket errors: connect 0, read 3, write 0, timeout 1\nRequests/sec:").
				Replace(wrkOut),
			want: wrkResult{Requests: 242327, RPS: 48465.20, P50: 310 * time.Microsecond, P99: 2500 * time.Millisecond, Non2xx: 12, SocketErrors: "connect 0, read 3, write 0, timeout 1"},
		},
		{name: "no latency", out: "Requests/sec: 10\n", wantErr: true},
		{name: "odd unit", out: strings.Replace(wrkOut, "310.00us", "310.00xx", 1), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseWrk(tt.out)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestWrkArgs(t *testing.T) {
	got := strings.Join(wrkArgs(1, 16, 5*time.Second, "tok", "http://127.0.0.1:1/x"), " ")
	want := "taskset -c 1 wrk -t1 -c16 -d5s --latency -H Authorization: Bearer tok http://127.0.0.1:1/x"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if d := wrkDuration(200 * time.Millisecond); d != "1s" {
		t.Fatalf("wrkDuration(200ms) = %s, want 1s", d)
	}
}

const goBenchOut = `goos: linux
goarch: amd64
pkg: github.com/torqapi/integrations/internal/stub
cpu: AMD EPYC
BenchmarkHandler/n=10-2         	  100000	     10000 ns/op	    2000 B/op	      20 allocs/op
BenchmarkHandler/n=10-2         	  100000	     12000 ns/op	    2100 B/op	      21 allocs/op
BenchmarkHandler/n=10-2         	  100000	     11000 ns/op	    2200 B/op	      22 allocs/op
BenchmarkValidateResponse/n=10-2 	   10000	    190000 ns/op	   3.85 MB/s	  1000 B/op	      10 allocs/op
BenchmarkValidateResponse/n=10000-2 	       8	 100090000 ns/op	   3.85 MB/s	  9000 B/op	      90 allocs/op
PASS
ok  	github.com/torqapi/integrations/internal/stub	3.2s
pkg: github.com/torqapi/integrations/api
BenchmarkDecodeList/1_000_integrations-2	  1000	   1500000 ns/op	  400000 B/op	  9000 allocs/op
BenchmarkPlain-2	  1000	   15 ns/op
`

func TestParseGoBench(t *testing.T) {
	lines := parseGoBench(goBenchOut)
	if len(lines) != 7 {
		t.Fatalf("got %d lines, want 7: %+v", len(lines), lines)
	}
	if l := lines[5]; l.Pkg != "github.com/torqapi/integrations/api" || l.Name != "BenchmarkDecodeList/1_000_integrations" || l.Metrics["ns/op"] != 1500000 || l.Metrics["allocs/op"] != 9000 {
		t.Fatalf("line 5 = %+v", l)
	}
}

// TestPairedRatios: the k-th run of one benchmark pairs with the k-th run
// of the other (one -count round), not best with best.
func TestPairedRatios(t *testing.T) {
	out := `pkg: github.com/torqapi/integrations/internal/bench/pertest
BenchmarkPerTest/apitest-2 	 300	 3000000 ns/op
BenchmarkPerTest/httptest-2	 4000	 300000 ns/op
BenchmarkPerTest/apitest-2 	 300	 2000000 ns/op
BenchmarkPerTest/httptest-2	 4000	 400000 ns/op
BenchmarkPerTest/apitest-2 	 300	 2400000 ns/op
BenchmarkPerTest/httptest-2	 4000	 300000 ns/op
`
	pt := newPerTest(parseGoBench(out))
	if pt.ratio.N != 3 || pt.ratio.Med != 8 || pt.ratio.Min != 5 || pt.ratio.Max != 10 {
		t.Fatalf("ratio = %+v, want median 8 of 10, 5, 8", pt.ratio)
	}
	if pt.stub.Med != 2400000 || pt.base.Med != 300000 {
		t.Fatalf("medians = %v, %v", pt.stub.Med, pt.base.Med)
	}
}

// TestPairedShare: the stub/limit share is the median of per-round ratios;
// the old best-over-best would say 1.0 here, the rounds say 0.8.
func TestPairedShare(t *testing.T) {
	stub := []wrkResult{{RPS: 80}, {RPS: 100}, {RPS: 70}}
	limit := []wrkResult{{RPS: 100}, {RPS: 100}, {RPS: 100}}
	got := pairedShare(stub, limit)
	if got.Med != 0.8 || got.Min != 0.7 || got.Max != 1.0 || got.N != 3 {
		t.Fatalf("share = %+v, want 0.8 (0.7–1.0)", got)
	}
	if m := medianRound(stub); m.RPS != 80 {
		t.Fatalf("median round %v, want 80", m.RPS)
	}
}

func TestSpread(t *testing.T) {
	tests := []struct {
		in   []float64
		want spread
	}{
		{nil, spread{}},
		{[]float64{3}, spread{3, 3, 3, 1}},
		{[]float64{4, 1, 3, 2}, spread{2.5, 1, 4, 4}},
		{[]float64{5, 0.5, 2}, spread{2, 0.5, 5, 3}},
	}
	for _, tt := range tests {
		if got := newSpread(tt.in); got != tt.want {
			t.Errorf("newSpread(%v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	if got := fmtSpread(spread{0.875, 0.73, 0.93, 5}, ""); got != "0.88 (0.73–0.93, 5 rounds)" {
		t.Errorf("fmtSpread = %q", got)
	}
}

func TestHealthCount(t *testing.T) {
	tests := []struct {
		body string
		n    int
		ok   bool
	}{
		{`{"status":"ok","integrations":100000}` + "\n", 100000, true},
		{`{"status":"ok","integrations":0}`, 0, true},
		{`{"status":"ok"}`, 0, false},
		{`ok`, 0, false},
	}
	for _, tt := range tests {
		n, ok := healthCount([]byte(tt.body))
		if n != tt.n || ok != tt.ok {
			t.Errorf("healthCount(%q) = %d, %v; want %d, %v", tt.body, n, ok, tt.n, tt.ok)
		}
	}
	if countIs(5)([]byte(`{"integrations":4}`)) || !countIs(4)([]byte(`{"integrations":4}`)) {
		t.Error("countIs")
	}
}

// TestSupervisorStop: stop ends a child through its Cancel (SIGTERM to the
// group) within the WaitDelay, and cancelling the run's context ends it too.
func TestSupervisorStop(t *testing.T) {
	sup := newSupervisor()
	c, err := sup.start(context.Background(), 5*time.Second, []string{"sleep", "30"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	sup.stop(c)
	if d := time.Since(t0); d > 3*time.Second {
		t.Fatalf("stop took %s", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c, err = sup.start(ctx, 5*time.Second, []string{"sh", "-c", "trap '' TERM; sleep 30"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let sh install its trap
	cancel()
	select {
	case <-c.done:
	case <-time.After(15 * time.Second):
		t.Fatal("a child ignoring SIGTERM outlived its WaitDelay")
	}
	sup.stopAll()
}

func TestParseStatusKB(t *testing.T) {
	status := "Name:\ttorq-stub\nVmPeak:\t 1250000 kB\nVmHWM:\t   14320 kB\nVmRSS:\t   13000 kB\n"
	tests := []struct {
		field   string
		want    int64
		wantErr bool
	}{
		{"VmHWM", 14320, false},
		{"VmRSS", 13000, false},
		{"VmSwap", 0, true},
		{"Name", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			got, err := parseStatusKB(status, tt.field)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("got %d, %v; want %d, err %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestSoakResult(t *testing.T) {
	tests := []struct {
		name      string
		kb        []int64
		window    int
		growthPct float64
	}{
		{"sixty flat seconds", repeat(10000, 60), 10, 0},
		{"growth of a fifth", append(repeat(10000, 10), append(repeat(11000, 40), repeat(12000, 10)...)...), 10, 20},
		{"short soak: thirds", []int64{1000, 1000, 1000, 1100, 1100, 1100}, 2, 10},
		{"two samples", []int64{1000, 1050}, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sr := newSoakResult(tt.kb, time.Minute, wrkResult{}, 0)
			if sr.window != tt.window {
				t.Fatalf("window = %d, want %d", sr.window, tt.window)
			}
			if d := sr.growthPct - tt.growthPct; d > 1e-9 || d < -1e-9 {
				t.Fatalf("growth = %.3f%%, want %.3f%%", sr.growthPct, tt.growthPct)
			}
		})
	}
}

func repeat(v int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestCommas(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567"} {
		if got := commas(n); got != want {
			t.Errorf("commas(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{"defaults", nil, false},
		{"short soak", []string{"-soak", "10s"}, false},
		{"soak too short", []string{"-soak", "1s"}, true},
		{"bad log", []string{"-server-log", "stdout"}, true},
		{"stray arg", []string{"x"}, true},
		{"bad scale size", []string{"-scale-sizes", "1000,1"}, true},
		{"no rounds", []string{"-rounds", "0"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseFlags(tt.args)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.name == "defaults" && (cfg.soak != time.Minute || cfg.conns != 16 || len(cfg.benchPkgs) != 3 || cfg.rounds != 5 || len(cfg.scaleSizes) != 2) {
				t.Fatalf("defaults = %+v", cfg)
			}
		})
	}
}

func TestParseStatCPU(t *testing.T) {
	// Fields 14 (utime) and 15 (stime) are 250 and 50 ticks; the command
	// name holds a space and a parenthesis.
	stat := "4242 (torq stub) x) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 50 0 0 20 0 3 0 100 0 0"
	got, err := parseStatCPU(stat)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 * time.Second; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if _, err := parseStatCPU("4242 (short) S 1"); err == nil {
		t.Fatal("want an error for a short stat line")
	}
}
