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
	targetDefaultShare = 0.85                   // stub rps / limit rps, default data, request log on: median of paired rounds
	targetReadyFloor   = 2.5                    // ready with the largest scale fixture ÷ the floor
	targetReloadFloor  = 2.5                    // SIGHUP reload of it ÷ the floor
	targetScalePeak    = 250e6                  // peak RSS with it loaded and reloaded
	targetPerTest      = 2.0                    // apitest per test ÷ httptest per test
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
	wrk          wrkResult   // the median round
	rounds       []wrkResult // every measured round, in order
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
	cfg       config
	niced     bool
	started   time.Time
	elapsed   time.Duration
	machine   machine
	benchRaw  string
	benchstat string
	perTest   perTestResult
	workspace workspaceResult
	ready     []time.Duration
	rows      []row
	scale     []scaleResult

	stubDefault, limitDefault, stubBig, limitBig, prism *row
	shareDefault, shareBig                              spread // stub ÷ limit requests/s, paired rounds
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

// fmtSpread writes a ratio spread: "0.87 (0.83–0.91, 5 rounds)".
func fmtSpread(s spread, unit string) string {
	return fmt.Sprintf("%.2f%s (%.2f–%.2f, %d rounds)", s.Med, unit, s.Min, s.Max, s.N)
}

// fmtSecs writes a spread of seconds: "0.64 s (0.61–0.70)".
func fmtSecs(s spread) string {
	return fmt.Sprintf("%s (%s–%s)", fmtDur(time.Duration(s.Med*1e9)), fmtDur(time.Duration(s.Min*1e9)), fmtDur(time.Duration(s.Max*1e9)))
}

// largestScale is the scale result of the largest fixture, nil without one.
func (rep *report) largestScale() *scaleResult {
	var big *scaleResult
	for i := range rep.scale {
		if big == nil || rep.scale[i].n > big.n {
			big = &rep.scale[i]
		}
	}
	return big
}

// goals renders the table: every row with its goal and PASS/FAIL.
func (rep *report) goals() string {
	var b strings.Builder
	b.WriteString("| measure | measured | goal | result |\n|---|---|---|---|\n")
	if big := rep.largestScale(); big != nil {
		floor := newSpread(seconds(big.floor))
		fmt.Fprintf(&b, "| ready with a %s-integration fixture (%d type_ids) vs the floor (decode the file, encode its bodies, no validation) | %s = %s the floor (%s); median of paired rounds | ≤ %.1f× the floor | %s |\n",
			commas(big.n), big.types, fmtSecs(newSpread(seconds(big.ready))), fmtSpread(big.readyRatio, "×"), fmtDur(time.Duration(floor.Med*1e9)), targetReadyFloor, passFail(big.readyRatio.Med <= targetReadyFloor))
		fmt.Fprintf(&b, "| SIGHUP reload of the same | %s = %s the floor | ≤ %.1f× | %s |\n",
			fmtSecs(newSpread(seconds(big.reload))), fmtSpread(big.reloadRatio, "×"), targetReloadFloor, passFail(big.reloadRatio.Med <= targetReloadFloor))
		fmt.Fprintf(&b, "| peak RSS with it loaded and reloaded | %.0f MB (largest VmHWM of %d rounds) | ≤ %.0f MB | %s |\n",
			float64(big.peakKB)*1024/1e6, len(big.ready), targetScalePeak/1e6, passFail(float64(big.peakKB)*1024 <= targetScalePeak))
	} else {
		b.WriteString("| ready / reload / peak RSS at scale | not run (-scale-sizes empty) | | FAIL |\n")
	}
	if pt := rep.perTest; pt.ratio.N > 0 {
		fmt.Fprintf(&b, "| `apitest.NewServer` + client + one list, per test, vs httptest with a static handler and one GET | %.0f µs vs %.0f µs = %s; median of paired rounds | ≤ %.1f× | %s |\n",
			pt.stub.Med/1e3, pt.base.Med/1e3, fmtSpread(pt.ratio, "×"), targetPerTest, passFail(pt.ratio.Med <= targetPerTest))
	} else {
		b.WriteString("| per test: apitest vs httptest | not run (-skip-gobench) | ≤ 2× | FAIL |\n")
	}
	fmt.Fprintf(&b, "| stub vs the bare net/http limit, default data, request log on | %s; median of paired rounds | ≥ %.2f | %s |\n",
		fmtSpread(rep.shareDefault, ""), targetDefaultShare, passFail(rep.shareDefault.Med >= targetDefaultShare))
	return b.String()
}

// markdown renders the report.
func (rep *report) markdown() string {
	var b bytes.Buffer
	m := rep.machine
	fmt.Fprintf(&b, "# Performance: `make bench`\n\n")
	fmt.Fprintf(&b, "Measured %s UTC in %s. Machine: %d cores (`nproc`), %s; %s; %s; %s; Node.js %s; commit %s.\n\n",
		rep.started.Format("2006-01-02 15:04"), rep.elapsed.Round(time.Second), m.nproc, m.cpu, m.kernel, m.goVersion, m.wrk, m.node, m.commit)
	if len(rep.cfg.stubFlags) > 0 {
		fmt.Fprintf(&b, "**NOT AS SHIPPED: the stub ran with the extra flags `%s`.**\n\n", strings.Join(rep.cfg.stubFlags, " "))
	}

	b.WriteString("## Goals\n\n")
	b.WriteString(rep.goals())
	b.WriteString("\n")

	fmt.Fprintf(&b, "## Load\n\nEach server is pinned to core %d (Go servers with `GOMAXPROCS=1`), wrk to core %d: `taskset -c %d wrk -t1 -c%d -d%s --latency -H 'Authorization: Bearer %s' http://127.0.0.1:PORT%s`, after a %s warm-up; the stub and the limit serving its bytes run side by side and are measured in %d alternating rounds. Requests/s, p50 and p99 are the median round's; stub/limit is the median of the per-round ratios with its min–max spread. Peak RSS is the server's `VmHWM` after its runs; ready is the time from starting the process to its first 200 (`/healthz`; Prism, which has none, on the list path). CPU/request is the server process's utime+stime (`/proc/PID/stat`, all threads) read just before and just after each measured wrk run, summed over the rounds, divided by the requests wrk completed.\n\n",
		rep.cfg.serverCore, rep.cfg.loadCore, rep.cfg.loadCore, rep.cfg.conns, wrkDuration(rep.cfg.duration), rep.cfg.token, rep.cfg.path, rep.cfg.warmup, rep.cfg.rounds)
	if rep.niced {
		fmt.Fprintf(&b, "Servers and wrk run at niceness %d, so that other work on the machine disturbs them less.\n\n", rep.cfg.nice)
	}
	b.WriteString("| server | data | body | requests/s | p50 | p99 | peak RSS | ready | CPU/request | stub/limit | stub/Prism |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for i := range rep.rows {
		r := &rep.rows[i]
		vsLimit, vsPrism := "", ""
		if share := rep.shareFor(r); share != nil {
			vsLimit = fmtSpread(*share, "")
			vsPrism = fmt.Sprintf("%.1f×", r.wrk.RPS/rep.prism.wrk.RPS)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %.0f | %s | %s | %.1f MB | %s | %.1f µs | %s | %s |\n",
			r.server, r.data, fmtBytes(float64(r.bodyLen)), r.wrk.RPS, fmtDur(r.wrk.P50), fmtDur(r.wrk.P99), r.peakMB(), fmtDur(r.ready), float64(r.cpuPerReq)/1e3, vsLimit, vsPrism)
	}
	b.WriteString("\n")

	if len(rep.scale) > 0 {
		fmt.Fprintf(&b, "## Scale\n\nFixture files from internal/bench/benchdata over %d type_ids. In each of %d paired rounds: the floor (internal/bench/floor: decode the file and encode the full list and each type_id's list with encoding/json and the generated types, nothing else) from process start to exit; the stub (`--fixtures FILE`) from process start to `/healthz` answering 200 with the file's count; then the file replaced (atomically) by one with an integration less and SIGHUP sent, to `/healthz` reporting the new count. Both unpinned, default GOMAXPROCS, as a test suite meets them. Ratios are the median of the per-round ratios (min–max). Requests/s: a stub pinned like the load rows, one %s wrk run of the full list and one of `?type_id=%s`.\n\n",
			rep.cfg.scaleTypes, rep.cfg.scaleRuns, wrkDuration(rep.cfg.duration), rep.cfg.filterType)
		b.WriteString("| integrations | floor | ready | ready ÷ floor | reload (SIGHUP) | reload ÷ floor | peak RSS | full list: body, requests/s, CPU/request | filtered list: body, requests/s, CPU/request |\n")
		b.WriteString("|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, s := range rep.scale {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %.0f MB | %s, %.1f, %s | %s, %.0f, %s |\n",
				commas(s.n), fmtSecs(newSpread(seconds(s.floor))), fmtSecs(newSpread(seconds(s.ready))), fmtSpread(s.readyRatio, "×"),
				fmtSecs(newSpread(seconds(s.reload))), fmtSpread(s.reloadRatio, "×"), float64(s.peakKB)*1024/1e6,
				fmtBytes(float64(s.fullBytes)), s.full.RPS, fmtDur(s.fullCPU), fmtBytes(float64(s.filteredBytes)), s.filtered.RPS, fmtDur(s.filteredCPU))
		}
		b.WriteString("\n")
	}

	b.WriteString("## Per test\n\n")
	b.WriteString("| measure | measured |\n|---|---|\n")
	if pt := rep.perTest; pt.ratio.N > 0 {
		fmt.Fprintf(&b, "| `apitest.NewServer` + `Client()` + one `ListIntegrations` (internal/bench/pertest, %s) | %.0f µs (%.0f–%.0f) |\n", perTestStub, pt.stub.Med/1e3, pt.stub.Min/1e3, pt.stub.Max/1e3)
		fmt.Fprintf(&b, "| `httptest.NewServer` with a static handler + one GET (%s) | %.0f µs (%.0f–%.0f) |\n", perTestBase, pt.base.Med/1e3, pt.base.Min/1e3, pt.base.Max/1e3)
		fmt.Fprintf(&b, "| apitest ÷ httptest, per round (one `go test -count 1` each: the pair back to back) | %s |\n", fmtSpread(pt.ratio, "×"))
	}
	switch ws := rep.workspace; {
	case !ws.available:
		fmt.Fprintf(&b, "| creating a workspace through the control API (`POST /__stub/workspaces`) | n/a (no control API: the route answered %d) |\n", ws.status)
	case ws.perCreate == 0:
		fmt.Fprintf(&b, "| creating a workspace through the control API (`POST /__stub/workspaces`, body `{}`) | not measured: the route answered %d, not 201 |\n", ws.status)
	default:
		fmt.Fprintf(&b, "| creating a workspace through the control API (`POST /__stub/workspaces`, body `{}`) | %s (median of %d, loopback, stub pinned) |\n", fmtDur(ws.perCreate), workspaceCreates)
	}
	b.WriteString("\n")

	readyMed := medianDur(rep.ready)
	readyMax := slices.Max(append([]time.Duration{0}, rep.ready...))
	peak := max(rep.stubDefault.peakKB, rep.stubBig.peakKB, rep.soak.peakKB)
	peakMB := float64(peak) * 1024 / 1e6

	b.WriteString("## Other targets\n\n")
	b.WriteString("| target | measured | result |\n|---|---|---|\n")
	vsPrism := rep.stubDefault.wrk.RPS / rep.prism.wrk.RPS
	fmt.Fprintf(&b, "| (cross-check, less sensitive to other load: limit CPU/request ÷ stub CPU/request, default data) | %.2f (%.1f µs vs %.1f µs) | info |\n",
		float64(rep.limitDefault.cpuPerReq)/float64(rep.stubDefault.cpuPerReq), float64(rep.limitDefault.cpuPerReq)/1e3, float64(rep.stubDefault.cpuPerReq)/1e3)
	fmt.Fprintf(&b, "| default data: stub p99 ≤ %s at %d connections (median round) | %s | %s |\n", fmtDur(targetP99), rep.cfg.conns, fmtDur(rep.stubDefault.wrk.P99), passFail(rep.stubDefault.wrk.P99 <= targetP99))
	fmt.Fprintf(&b, "| %s integrations: stub ≥ %.2f of the limit (median of paired rounds) | %s | %s |\n", commas(rep.cfg.fixtureSize), targetBigShare, fmtSpread(rep.shareBig, ""), passFail(rep.shareBig.Med >= targetBigShare))
	fmt.Fprintf(&b, "| (cross-check: limit CPU/request ÷ stub CPU/request, %s integrations) | %.2f (%.1f µs vs %.1f µs) | info |\n",
		commas(rep.cfg.fixtureSize), float64(rep.limitBig.cpuPerReq)/float64(rep.stubBig.cpuPerReq), float64(rep.limitBig.cpuPerReq)/1e3, float64(rep.stubBig.cpuPerReq)/1e3)
	fmt.Fprintf(&b, "| stub ≥ %.0f× Prism's requests/s (median rounds) | %.1f× (%.0f vs %.0f) | %s |\n", targetVsPrism, vsPrism, rep.stubDefault.wrk.RPS, rep.prism.wrk.RPS, passFail(vsPrism >= targetVsPrism))
	fmt.Fprintf(&b, "| stub peak RSS ≤ %.0f MB under load (default data and %s integrations, soak included) | %.1f MB | %s |\n", targetPeakBytes/1e6, commas(rep.cfg.fixtureSize), peakMB, passFail(float64(peak)*1024 <= targetPeakBytes))
	fmt.Fprintf(&b, "| ready, default data (start → first 200 from /healthz, polled every 5 ms) ≤ %s | median %s of %d starts (max %s) | %s |\n", fmtDur(targetReady), fmtDur(readyMed), len(rep.ready), fmtDur(readyMax), passFail(readyMed <= targetReady))
	fmt.Fprintf(&b, "| soak: RSS growth ≤ %.0f%% over %s | %+.1f%% (%.1f MB → %.1f MB, first vs last %d s; %.0f req/s) | %s |\n", targetSoakGrowth, rep.soak.length, rep.soak.growthPct, rep.soak.firstMB, rep.soak.lastMB, rep.soak.window, rep.soak.wrk.RPS, passFail(rep.soak.growthPct <= targetSoakGrowth))
	b.WriteString("\n")

	if rep.benchstat != "" {
		fmt.Fprintf(&b, "## Go benchmarks\n\n`go test -run '^$' -bench . -benchmem -count %d -benchtime %s %s` (not pinned), summarised by benchstat (pinned in internal/tools):\n\n```\n%s```\n\n",
			rep.cfg.benchCount, rep.cfg.benchTime, strings.Join(rep.cfg.benchPkgs, " "), rep.benchstat)
	}

	b.WriteString("## Notes\n\n")
	fmt.Fprintf(&b, "- The stub runs as shipped: `go build -o` of %s, default flags (request log on) but `--addr` (and `--fixtures` for the fixture files, generated by internal/bench/benchdata); its log goes to %s (%s of log for the default-data run).\n",
		rep.cfg.stubPkg, map[string]string{"file": "a file", "null": "/dev/null"}[rep.cfg.logDestination], fmtBytes(float64(rep.stubDefault.logBytes)))
	b.WriteString("- The limit (internal/bench/limit) is a bare net/http server writing the bytes the stub answered, with the stub's headers (Date aside); its body is checked byte for byte before the run.\n")
	fmt.Fprintf(&b, "- Prism: `prism mock -h 127.0.0.1 -p PORT openapi.yaml` (static examples), answering the contract's 200 example; it serves the contract's paths without the servers' `/public` prefix, so every server is asked for `%s`.\n", rep.cfg.path)
	fmt.Fprintf(&b, "- Soak RSS is `VmRSS` sampled every second; growth compares the average of the first and the last %d samples.\n", rep.soak.window)
	b.WriteString("- Tools: `make bench-tools` installs wrk (apt-get), Prism (npm, into .cache) and the pinned benchstat (into .cache/bin); the run itself installs nothing.\n")
	b.WriteString("- Reproduce: `make bench` (60 s soak) or `BENCH_SOAK=10s make bench`.\n")
	return b.String()
}

// shareFor returns the paired stub/limit ratio of stub row r, or nil when
// r is not a stub row.
func (rep *report) shareFor(r *row) *spread {
	switch r {
	case rep.stubDefault:
		return &rep.shareDefault
	case rep.stubBig:
		return &rep.shareBig
	}
	return nil
}

// fmtBytes writes a byte count with a binary unit.
func fmtBytes(b float64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	default:
		return fmt.Sprintf("%.0f B", b)
	}
}
