package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Targets of the performance issue; a miss prints FAIL, it does not fail
// the run.
const (
	targetDefaultShare = 0.90                   // stub rps / limit rps, default data
	targetP99          = 2 * time.Millisecond   // stub p99, default data, 16 connections
	targetBigShare     = 0.80                   // stub rps / limit rps, 1,000 integrations
	targetVsPrism      = 10.0                   // stub rps / Prism rps
	targetPeakBytes    = 50e6                   // peak RSS of the stub under load
	targetReady        = 200 * time.Millisecond // start to first 200 from /healthz
	targetSoakGrowth   = 10.0                   // percent RSS growth over the soak
)

// row is one server's line of the load table.
type row struct {
	server, data string
	bodyLen      int
	wrk          wrkResult
	peakKB       int64
	ready        time.Duration
	logBytes     int64
	cpuPerReq    time.Duration // server CPU time (user+system) per request over all measured rounds
}

func (r row) peakMB() float64 { return float64(r.peakKB) * 1024 / 1e6 }

// soakResult is the RSS over the soak: the average of the first and of the
// last window of samples (10 s each, or a third of the samples when the
// soak is shorter than 30 s).
type soakResult struct {
	length          time.Duration
	samples         int
	window          int
	firstMB, lastMB float64
	growthPct       float64
	wrk             wrkResult
	peakKB          int64
}

func newSoakResult(kb []int64, length time.Duration, w wrkResult, peakKB int64) soakResult {
	sr := soakResult{length: length, samples: len(kb), wrk: w, peakKB: peakKB}
	sr.window = min(10, len(kb)/3)
	if sr.window < 1 {
		sr.window = len(kb)
	}
	avg := func(xs []int64) float64 {
		if len(xs) == 0 {
			return 0
		}
		var t int64
		for _, x := range xs {
			t += x
		}
		return float64(t) * 1024 / 1e6 / float64(len(xs))
	}
	sr.firstMB = avg(kb[:sr.window])
	sr.lastMB = avg(kb[len(kb)-sr.window:])
	if sr.firstMB > 0 {
		sr.growthPct = (sr.lastMB - sr.firstMB) / sr.firstMB * 100
	}
	return sr
}

// report is everything one run measured.
type report struct {
	cfg      config
	niced    bool
	started  time.Time
	elapsed  time.Duration
	machine  machine
	benches  []benchSummary
	benchRaw string
	ready    []time.Duration
	rows     []row

	stubDefault, limitDefault, stubBig, limitBig, prism *row
	soak                                                soakResult
}

// machine describes where the numbers were taken.
type machine struct {
	nproc                                     int
	cpu, goVersion, kernel, wrk, node, commit string
}

func machineInfo(ctx context.Context) machine {
	m := machine{nproc: runtime.NumCPU(), cpu: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	first := func(argv ...string) string {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		out, _ := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
		line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		return strings.TrimSpace(line)
	}
	m.goVersion = first("go", "version")
	m.kernel = first("uname", "-sr")
	m.wrk = first("wrk", "-v")
	m.node = first("node", "--version")
	m.commit = first("git", "rev-parse", "--short", "HEAD")
	if first("git", "status", "--porcelain", "--untracked-files=no") != "" {
		m.commit += " (with uncommitted changes)"
	}
	return m
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.0f µs", float64(d)/1e3)
	}
}

func medianDur(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// markdown renders the report.
func (rep *report) markdown() string {
	var b bytes.Buffer
	m := rep.machine
	fmt.Fprintf(&b, "# Performance: `make bench`\n\n")
	fmt.Fprintf(&b, "Measured %s UTC in %s. Machine: %d cores (`nproc`), %s; %s; %s; %s; Node.js %s; commit %s.\n\n",
		rep.started.Format("2006-01-02 15:04"), rep.elapsed.Round(time.Second), m.nproc, m.cpu, m.kernel, m.goVersion, m.wrk, m.node, m.commit)
	fmt.Fprintf(&b, "Each server is pinned to core %d (Go servers with `GOMAXPROCS=1`), wrk to core %d: `taskset -c %d wrk -t1 -c%d -d%s --latency -H 'Authorization: Bearer %s' http://127.0.0.1:PORT%s`, after a %s warm-up; the stub and the limit serving its bytes run side by side and are measured in %d alternating rounds, and each server's round with the most requests/s is shown. Peak RSS is the server's `VmHWM` after its runs; ready is the time from starting the process to its first 200 (`/healthz`; Prism, which has none, on the list path).\n\n",
		rep.cfg.serverCore, rep.cfg.loadCore, rep.cfg.loadCore, rep.cfg.conns, wrkDuration(rep.cfg.duration), rep.cfg.token, rep.cfg.path, rep.cfg.warmup, max(1, rep.cfg.rounds))

	if rep.niced {
		fmt.Fprintf(&b, "Servers and wrk run at niceness %d, so that other work on the machine disturbs them less.\n\n", rep.cfg.nice)
	}
	b.WriteString("## Load\n\n")
	b.WriteString("| server | data | body | requests/s | p50 | p99 | peak RSS | ready | CPU/request | stub/limit | stub/Prism |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for i := range rep.rows {
		r := &rep.rows[i]
		vsLimit, vsPrism := "", ""
		if lim := rep.limitFor(r); lim != nil {
			vsLimit = fmt.Sprintf("%.2f", r.wrk.RPS/lim.wrk.RPS)
			vsPrism = fmt.Sprintf("%.1f×", r.wrk.RPS/rep.prism.wrk.RPS)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %.0f | %s | %s | %.1f MB | %s | %.1f µs | %s | %s |\n",
			r.server, r.data, fmtBytes(float64(r.bodyLen)), r.wrk.RPS, fmtDur(r.wrk.P50), fmtDur(r.wrk.P99), r.peakMB(), fmtDur(r.ready), float64(r.cpuPerReq)/1e3, vsLimit, vsPrism)
	}
	b.WriteString("\n")

	readyMed := medianDur(rep.ready)
	readyMax := slices.Max(append([]time.Duration{0}, rep.ready...))
	peak := max(rep.stubDefault.peakKB, rep.stubBig.peakKB, rep.soak.peakKB)
	peakMB := float64(peak) * 1024 / 1e6
	costs := validationCosts(rep.benches)

	b.WriteString("## Targets\n\n")
	b.WriteString("| target | measured | result |\n|---|---|---|\n")
	shareD := rep.stubDefault.wrk.RPS / rep.limitDefault.wrk.RPS
	shareB := rep.stubBig.wrk.RPS / rep.limitBig.wrk.RPS
	vsPrism := rep.stubDefault.wrk.RPS / rep.prism.wrk.RPS
	fmt.Fprintf(&b, "| default data: stub ≥ %.2f of the limit's requests/s | %.2f (%.0f of %.0f) | %s |\n", targetDefaultShare, shareD, rep.stubDefault.wrk.RPS, rep.limitDefault.wrk.RPS, passFail(shareD >= targetDefaultShare))
	fmt.Fprintf(&b, "| (cross-check, less sensitive to other load: limit CPU/request ÷ stub CPU/request, default data) | %.2f (%.1f µs vs %.1f µs) | info |\n",
		float64(rep.limitDefault.cpuPerReq)/float64(rep.stubDefault.cpuPerReq), float64(rep.limitDefault.cpuPerReq)/1e3, float64(rep.stubDefault.cpuPerReq)/1e3)
	fmt.Fprintf(&b, "| default data: stub p99 ≤ %s at %d connections | %s | %s |\n", fmtDur(targetP99), rep.cfg.conns, fmtDur(rep.stubDefault.wrk.P99), passFail(rep.stubDefault.wrk.P99 <= targetP99))
	fmt.Fprintf(&b, "| %s integrations: stub ≥ %.2f of the limit | %.2f (%.0f of %.0f) | %s |\n", commas(rep.cfg.fixtureSize), targetBigShare, shareB, rep.stubBig.wrk.RPS, rep.limitBig.wrk.RPS, passFail(shareB >= targetBigShare))
	fmt.Fprintf(&b, "| (cross-check: limit CPU/request ÷ stub CPU/request, %s integrations) | %.2f (%.1f µs vs %.1f µs) | info |\n",
		commas(rep.cfg.fixtureSize), float64(rep.limitBig.cpuPerReq)/float64(rep.stubBig.cpuPerReq), float64(rep.limitBig.cpuPerReq)/1e3, float64(rep.stubBig.cpuPerReq)/1e3)
	fmt.Fprintf(&b, "| stub ≥ %.0f× Prism's requests/s | %.1f× (%.0f vs %.0f) | %s |\n", targetVsPrism, vsPrism, rep.stubDefault.wrk.RPS, rep.prism.wrk.RPS, passFail(vsPrism >= targetVsPrism))
	fmt.Fprintf(&b, "| stub peak RSS ≤ %.0f MB under load (all stub runs, soak included) | %.1f MB | %s |\n", targetPeakBytes/1e6, peakMB, passFail(float64(peak)*1024 <= targetPeakBytes))
	fmt.Fprintf(&b, "| ready (start → first 200 from /healthz, polled every 5 ms) ≤ %s | median %s of %d starts (max %s) | %s |\n", fmtDur(targetReady), fmtDur(readyMed), len(rep.ready), fmtDur(readyMax), passFail(readyMed <= targetReady))
	fmt.Fprintf(&b, "| soak: RSS growth ≤ %.0f%% over %s | %+.1f%% (%.1f MB → %.1f MB, first vs last %d s; %.0f req/s) | %s |\n", targetSoakGrowth, rep.soak.length, rep.soak.growthPct, rep.soak.firstMB, rep.soak.lastMB, rep.soak.window, rep.soak.wrk.RPS, passFail(rep.soak.growthPct <= targetSoakGrowth))
	for _, c := range costs {
		fmt.Fprintf(&b, "| validation cost linear in the list's length (%s) | %.2f µs/integration at %s; marginal %.2f µs/integration from %s to %s | %s |\n",
			c.Bench, c.AtLargest, commas(c.Large), c.Marginal, commas(c.Small), commas(c.Large), "info")
	}
	b.WriteString("\n")

	if len(rep.benches) > 0 {
		fmt.Fprintf(&b, "## Go benchmarks\n\n`go test -run '^$' -bench . -benchmem -count %d -benchtime %s %s` (median of %d runs; not pinned):\n\n",
			rep.cfg.benchCount, rep.cfg.benchTime, strings.Join(rep.cfg.benchPkgs, " "), rep.cfg.benchCount)
		b.WriteString(benchTable(rep.benches))
		b.WriteString("\n")
	}

	b.WriteString("## Notes\n\n")
	if len(rep.cfg.stubFlags) > 0 {
		fmt.Fprintf(&b, "- **NOT AS SHIPPED: the stub ran with the extra flags `%s`.**\n", strings.Join(rep.cfg.stubFlags, " "))
	}
	fmt.Fprintf(&b, "- The stub runs as shipped: `go build -o` of %s, default flags but `--addr` (and `--fixtures` for the %s-integration file, generated by internal/bench/benchdata); its log goes to %s (%s of log for the default-data run).\n",
		rep.cfg.stubPkg, commas(rep.cfg.fixtureSize), map[string]string{"file": "a file", "null": "/dev/null"}[rep.cfg.logDestination], fmtBytes(float64(rep.stubDefault.logBytes)))
	fmt.Fprintf(&b, "- The limit (internal/bench/limit) is a bare net/http server writing the bytes the stub answered, with the stub's headers (Date aside); its body is checked byte for byte before the run.\n")
	fmt.Fprintf(&b, "- Prism: `prism mock -h 127.0.0.1 -p PORT openapi.yaml` (static examples, its default logging to a file), answering the contract's 200 example; it serves the contract's paths without the servers' `/public` prefix, so every server is asked for `%s`.\n", rep.cfg.path)
	b.WriteString("- CPU/request is the server process's user+system CPU time (`/proc/PID/stat`, all threads) over all its measured rounds divided by the requests wrk completed: unlike requests/s it hardly moves when other work shares the machine, so it cross-checks the stub/limit ratio.\n")
	fmt.Fprintf(&b, "- Soak RSS is `VmRSS` sampled every second; growth compares the average of the first and the last %d samples.\n", rep.soak.window)
	b.WriteString("- Reproduce: `make bench` (60 s soak) or `BENCH_SOAK=10s make bench`.\n")
	return b.String()
}

// limitFor returns the limit row serving the same bytes as stub row r, or
// nil when r is not a stub row.
func (rep *report) limitFor(r *row) *row {
	switch r {
	case rep.stubDefault:
		return rep.limitDefault
	case rep.stubBig:
		return rep.limitBig
	}
	return nil
}
