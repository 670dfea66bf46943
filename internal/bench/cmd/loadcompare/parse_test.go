package main

import (
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
	sums := summarize(parseGoBench(goBenchOut))
	type want struct {
		pkg, name string
		n, runs   int
		ns, b, al float64
	}
	wants := []want{
		{"internal/stub", "BenchmarkHandler/n=10", 10, 3, 11000, 2100, 21},
		{"internal/stub", "BenchmarkValidateResponse/n=10", 10, 1, 190000, 1000, 10},
		{"internal/stub", "BenchmarkValidateResponse/n=10000", 10000, 1, 100090000, 9000, 90},
		{"api", "BenchmarkDecodeList/1_000_integrations", 1000, 1, 1500000, 400000, 9000},
		{"api", "BenchmarkPlain", 0, 1, 15, 0, 0},
	}
	if len(sums) != len(wants) {
		t.Fatalf("got %d summaries, want %d: %+v", len(sums), len(wants), sums)
	}
	for i, w := range wants {
		s := sums[i]
		if shortPkg(s.Pkg) != w.pkg || s.Name != w.name || s.N != w.n || s.Runs != w.runs || s.NsPerOp != w.ns || s.BPerOp != w.b || s.Allocs != w.al {
			t.Errorf("summary %d = %+v, want %+v", i, s, w)
		}
	}
	costs := validationCosts(sums)
	if len(costs) != 1 {
		t.Fatalf("costs = %+v, want one family", costs)
	}
	c := costs[0]
	if c.Bench != "internal/stub.BenchmarkValidateResponse" || c.Small != 10 || c.Large != 10000 || c.AtLargest != 10.009 || c.Marginal != 10 {
		t.Fatalf("cost = %+v", c)
	}
	table := benchTable(sums)
	for _, s := range []string{"| internal/stub | BenchmarkHandler/n=10 | 10 | 11.00 µs | 1.10 | 2.1 KiB | 21 |", "| api | BenchmarkPlain | - | 15 ns | - | 0 B | 0 |"} {
		if !strings.Contains(table, s) {
			t.Errorf("table lacks %q:\n%s", s, table)
		}
	}
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

func TestSizeOf(t *testing.T) {
	tests := map[string]int{
		"BenchmarkHandler/n=1000":                 1000,
		"BenchmarkHandler/10000":                  10000,
		"BenchmarkDecodeList/1_000_integrations":  1000,
		"BenchmarkHandler":                        0,
		"BenchmarkHandler/default":                0,
		"BenchmarkValidateResponse/list/n=10,000": 10000,
	}
	for name, want := range tests {
		if got := sizeOf(name); got != want {
			t.Errorf("sizeOf(%q) = %d, want %d", name, got, want)
		}
	}
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseFlags(tt.args)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.name == "defaults" && (cfg.soak != time.Minute || cfg.conns != 16 || len(cfg.benchPkgs) != 3) {
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
