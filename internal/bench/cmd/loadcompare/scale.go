package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/torqapi/integrations/internal/bench/benchdata"
)

// spread is the median of a set of values with its minimum and maximum.
type spread struct {
	Med, Min, Max float64
	N             int
}

// newSpread summarises xs (the lower middle value of an even count is not
// used: the median of an even count is the mean of the two middle ones).
func newSpread(xs []float64) spread {
	if len(xs) == 0 {
		return spread{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return spread{Med: m, Min: s[0], Max: s[len(s)-1], N: len(s)}
}

// seconds turns durations into seconds for newSpread.
func seconds(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = d.Seconds()
	}
	return out
}

// ratios divides a[i] by b[i], round by round.
func ratios(a, b []time.Duration) []float64 {
	var out []float64
	for i := range min(len(a), len(b)) {
		if b[i] > 0 {
			out = append(out, float64(a[i])/float64(b[i]))
		}
	}
	return out
}

// scaleResult is one fixture size's scale rows.
type scaleResult struct {
	n, types                 int
	floor, ready, reload     []time.Duration // per paired round
	readyRatio, reloadRatio  spread          // stub ÷ floor, round by round
	peakKB                   int64           // largest VmHWM after a start and a reload
	full, filtered           wrkResult
	fullCPU, filteredCPU     time.Duration // per request
	fullBytes, filteredBytes int
}

// healthCount reads the integration count of a /healthz body.
func healthCount(body []byte) (int, bool) {
	var h struct {
		Integrations *int `json:"integrations"`
	}
	if json.Unmarshal(body, &h) != nil || h.Integrations == nil {
		return 0, false
	}
	return *h.Integrations, true
}

// countIs is a readiness check: /healthz reports n integrations.
func countIs(n int) func([]byte) bool {
	return func(body []byte) bool { got, ok := healthCount(body); return ok && got == n }
}

// copyFile copies src over dst atomically (a temporary file renamed).
func copyFile(dst, src string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.WriteFile(dst+".tmp", b, 0o600); err != nil {
		return err
	}
	return os.Rename(dst+".tmp", dst)
}

// scale measures the stub with n integrations over scaleTypes type_ids, in
// scaleRuns paired rounds, each: the floor (process start to exit), the
// stub's start (process start to /healthz reporting n) and its reload
// (SIGHUP to /healthz reporting n-1, the file having been replaced by one
// with an integration less), then its peak RSS. Floor and stub run alike:
// unpinned, default GOMAXPROCS, as a user's suite meets them. Then one
// stub pinned like the load comparison answers the full and a filtered
// list under wrk.
func (r *runner) scale(ctx context.Context, n int) (scaleResult, error) {
	sr := scaleResult{n: n, types: r.cfg.scaleTypes}
	fileN := filepath.Join(r.tmp, fmt.Sprintf("scale-%d.json", n))
	fileM := filepath.Join(r.tmp, fmt.Sprintf("scale-%d.json", n-1))
	live := filepath.Join(r.tmp, fmt.Sprintf("scale-%d-live.json", n))
	items := benchdata.IntegrationsOfTypes(n, r.cfg.scaleTypes)
	if err := writeFixtures(fileN, items); err != nil {
		return sr, err
	}
	if err := writeFixtures(fileM, items[:n-1]); err != nil {
		return sr, err
	}
	for round := range r.cfg.scaleRuns {
		if err := copyFile(live, fileN); err != nil {
			return sr, err
		}
		t0 := time.Now()
		if err := r.command(ctx, 5*time.Minute, io.Discard, r.floorBin, live); err != nil {
			return sr, err
		}
		floor := time.Since(t0)

		port, err := freePort()
		if err != nil {
			return sr, err
		}
		name := fmt.Sprintf("torq-stub %d", n)
		st, err := r.startServer(ctx, serverSpec{name: name, argv: r.stubArgv(port, []string{"--fixtures", live}), health: healthz, ok: countIs(n), limit: 5 * time.Minute}, port)
		if err != nil {
			return sr, err
		}
		reload, hwm, err := r.reload(ctx, st, live, fileM, n-1)
		r.sup.stop(st.c)
		if err != nil {
			return sr, err
		}
		sr.floor = append(sr.floor, floor)
		sr.ready = append(sr.ready, st.ready)
		sr.reload = append(sr.reload, reload)
		sr.peakKB = max(sr.peakKB, hwm)
		r.logf("scale %s round %d: floor %s, ready %s, reload %s, peak RSS %.0f MB", commas(n), round+1, fmtDur(floor), fmtDur(st.ready), fmtDur(reload), float64(hwm)*1024/1e6)
	}
	sr.readyRatio = newSpread(ratios(sr.ready, sr.floor))
	sr.reloadRatio = newSpread(ratios(sr.reload, sr.floor))

	if err := copyFile(live, fileN); err != nil {
		return sr, err
	}
	port, err := freePort()
	if err != nil {
		return sr, err
	}
	sp := r.stubSpec(fmt.Sprintf("torq-stub %d pinned", n), port, []string{"--fixtures", live})
	sp.ok, sp.limit = countIs(n), 5*time.Minute
	st, err := r.startServer(ctx, sp, port)
	if err != nil {
		return sr, err
	}
	defer r.sup.stop(st.c)
	filtered := r.cfg.path + "?type_id=" + r.cfg.filterType
	for _, p := range []struct {
		path  string
		res   *wrkResult
		cpu   *time.Duration
		bytes *int
	}{{r.cfg.path, &sr.full, &sr.fullCPU, &sr.fullBytes}, {filtered, &sr.filtered, &sr.filteredCPU, &sr.filteredBytes}} {
		body, _, err := r.fetch(ctx, st.base+p.path)
		if err != nil {
			return sr, fmt.Errorf("%s: %w", st.name, err)
		}
		*p.bytes = len(body)
		if _, err := runWrk(ctx, r.sup, r.wrk(r.cfg.conns, r.cfg.warmup, r.cfg.token, st.base+p.path), r.cfg.warmup); err != nil {
			return sr, fmt.Errorf("%s warm-up: %w", st.name, err)
		}
		got, used, err := r.wrkWindow(ctx, st, p.path, r.cfg.duration)
		if err != nil {
			return sr, err
		}
		*p.res = got
		if got.Requests > 0 {
			*p.cpu = used / time.Duration(got.Requests)
		}
		r.logf("scale %s %s: %.1f req/s, %s CPU per request", commas(n), p.path, got.RPS, *p.cpu)
	}
	return sr, nil
}

// reload replaces the stub's fixture file by next (want integrations),
// sends SIGHUP and times it to /healthz reporting the new count; it also
// returns the stub's peak RSS after the reload.
func (r *runner) reload(ctx context.Context, st *server, live, next string, want int) (time.Duration, int64, error) {
	if err := copyFile(live, next); err != nil {
		return 0, 0, err
	}
	t0 := time.Now()
	if err := syscall.Kill(st.c.pid(), syscall.SIGHUP); err != nil {
		return 0, 0, err
	}
	d, err := waitReady(ctx, st.base+"/healthz", nil, countIs(want), t0, st.c.done, 5*time.Millisecond, 5*time.Minute)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: reload: %w%s", st.name, err, tail(st.logPath))
	}
	hwm, err := procStatusKB(st.c.pid(), "VmHWM")
	return d, hwm, err
}

// workspaceResult is the per-test row of creating a workspace through the
// control API, or why it cannot be measured yet.
type workspaceResult struct {
	available bool
	status    int           // what POST /__stub/workspaces answered
	perCreate time.Duration // median of workspaceCreates
}

// workspaceCreates is how many workspaces the probe creates to time them.
const workspaceCreates = 20

// probeWorkspaces asks a stub with the default data for POST
// /__stub/workspaces (the control API's create); a 404 or 405 means there
// is no control API yet: the row says "n/a". Otherwise it times
// workspaceCreates creates of an empty workspace.
func (r *runner) probeWorkspaces(ctx context.Context) (workspaceResult, error) {
	port, err := freePort()
	if err != nil {
		return workspaceResult{}, err
	}
	st, err := r.startServer(ctx, r.stubSpec("torq-stub control", port, nil), port)
	if err != nil {
		return workspaceResult{}, err
	}
	defer r.sup.stop(st.c)
	client := &http.Client{Timeout: 10 * time.Second}
	create := func() (int, time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.base+"/__stub/workspaces", bytes.NewReader([]byte(`{}`)))
		if err != nil {
			return 0, 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, 0, err
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		return resp.StatusCode, time.Since(t0), nil
	}
	status, _, err := create()
	if err != nil {
		return workspaceResult{}, fmt.Errorf("probe POST /__stub/workspaces: %w", err)
	}
	res := workspaceResult{status: status}
	if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
		r.logf("POST /__stub/workspaces: %d: no control API", status)
		return res, nil
	}
	res.available = true
	if status != http.StatusCreated {
		r.logf("POST /__stub/workspaces {}: %d, not 201: not timed", status)
		return res, nil
	}
	var ds []time.Duration
	for range workspaceCreates {
		code, d, err := create()
		if err != nil {
			return res, err
		}
		if code != http.StatusCreated {
			return res, fmt.Errorf("POST /__stub/workspaces: %s after a 201", strconv.Itoa(code))
		}
		ds = append(ds, d)
	}
	res.perCreate = medianDur(ds)
	return res, nil
}

// The per-test benchmark pair and its package.
const (
	perTestPkg  = "./internal/bench/pertest"
	perTestStub = "BenchmarkPerTest/apitest"
	perTestBase = "BenchmarkPerTest/httptest"
)

// perTestResult is the per-test pair: each side's median ns/op and the
// median of the per-round ratios.
type perTestResult struct {
	stub, base spread // ns/op
	ratio      spread
}

func newPerTest(lines []benchLine) perTestResult {
	rs, a, b := pairedRatios(lines, perTestStub, perTestBase)
	return perTestResult{stub: newSpread(a), base: newSpread(b), ratio: newSpread(rs)}
}
