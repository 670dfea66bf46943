// Command loadcompare is `make bench`: in one run on one machine it runs the
// Go benchmarks (summarised by benchstat), the per-test pair (apitest vs
// httptest), a load comparison with wrk of the stub as shipped, the limit
// (a bare net/http server writing the very bytes the stub returns) and
// Stoplight Prism mocking the same openapi.yaml, each server pinned to one
// core and wrk to the other, and the scale rows: the stub with 10,000 and
// 100,000 integrations (50 type_ids) against the floor (decode the file,
// encode its bodies, nothing else). Ratios are medians of paired rounds with
// their min–max spread; CPU per request is the server process's utime+stime
// over the measured runs. It checks the numbers against the project's goals
// and writes a markdown report.
//
//	go run ./internal/bench/cmd/loadcompare -soak 60s -out internal/bench/RESULTS.md \
//	    -prism .cache/prism-5.16.0/node_modules/.bin/prism -benchstat .cache/bin/benchstat
//
// A missed goal prints FAIL in the report; the command itself fails only
// when something cannot run (a build, a server that does not start, wrk
// seeing errors, a tool missing: `make bench-tools` installs wrk, Prism and
// benchstat). Every child process is an exec.Cmd bound to the run's
// context, ended on return and on Ctrl-C.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/bench/benchdata"
)

// config is everything a run can be told.
type config struct {
	root, out        string
	duration, warmup time.Duration
	soak             time.Duration
	conns            int
	serverCore       int
	loadCore         int
	path, token      string
	benchCount       int
	benchTime        string
	benchPkgs        []string
	requireBench     []string
	skipGoBench      bool
	readyRuns        int
	prismBin         string
	benchstatBin     string
	fixtureSize      int
	scaleSizes       []int
	scaleTypes       int
	scaleRuns        int
	filterType       string
	stubPkg          string
	stubFlags        []string
	nice             int
	rounds           int
	logDestination   string
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadcompare:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sup := newSupervisor()
	err = run(ctx, cfg, sup, os.Stdout, os.Stderr)
	sup.stopAll()
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "loadcompare: interrupted; every server and load generator it started is stopped")
			os.Exit(130)
		}
		fmt.Fprintln(os.Stderr, "loadcompare: FAILED TO RUN:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("loadcompare", flag.ContinueOnError)
	fs.StringVar(&cfg.root, "root", ".", "repository root (holds go.mod and openapi.yaml)")
	fs.StringVar(&cfg.out, "out", "internal/bench/RESULTS.md", "report file, relative to -root; empty: print only")
	fs.DurationVar(&cfg.duration, "duration", 5*time.Second, "measured wrk run per server and round")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "wrk warm-up before each server's rounds")
	fs.DurationVar(&cfg.soak, "soak", 60*time.Second, "soak length against the stub (RSS sampled every second)")
	fs.IntVar(&cfg.conns, "connections", 16, "wrk connections")
	fs.IntVar(&cfg.serverCore, "server-core", 0, "core the server under test is pinned to")
	fs.IntVar(&cfg.loadCore, "load-core", 1, "core wrk is pinned to")
	fs.StringVar(&cfg.path, "path", "/v1alpha/integrations", "request path, the same for every server (Prism serves the contract's paths without the /public server prefix)")
	fs.StringVar(&cfg.token, "token", "torq-stub-token", "bearer token sent by wrk")
	fs.IntVar(&cfg.benchCount, "benchcount", 6, "go test -count for the Go benchmarks, and the rounds of the per-test pair (one go test -count 1 each)")
	fs.StringVar(&cfg.benchTime, "benchtime", "1s", "go test -benchtime")
	pkgs := fs.String("benchpkgs", "./internal/stub/,./api/,./internal/bench/benchdata/", "comma-separated packages whose benchmarks run (the per-test pair runs on its own, in -benchcount interleaved rounds)")
	req := fs.String("require", "BenchmarkHandler,BenchmarkValidateResponse,BenchmarkDecodeList,BenchmarkValidateList,"+perTestStub+","+perTestBase, "comma-separated benchmarks that must be among the results")
	fs.BoolVar(&cfg.skipGoBench, "skip-gobench", false, "skip the Go benchmarks (for trying the load part alone)")
	fs.IntVar(&cfg.readyRuns, "ready-runs", 5, "starts of the stub timed to its first 200 from /healthz (median reported)")
	fs.StringVar(&cfg.prismBin, "prism", "", "the Prism executable (make bench-tools installs it under .cache)")
	fs.StringVar(&cfg.benchstatBin, "benchstat", "", "the benchstat executable (make bench-tools builds the pinned one into .cache/bin)")
	fs.IntVar(&cfg.fixtureSize, "fixture-size", 1000, "integrations in the fixture file of the load comparison")
	sizes := fs.String("scale-sizes", "10000,100000", "comma-separated fixture sizes of the scale rows")
	fs.IntVar(&cfg.scaleTypes, "scale-types", 50, "type_ids the scale fixtures spread over")
	fs.IntVar(&cfg.scaleRuns, "scale-runs", 3, "paired rounds (floor, stub start, stub reload) per scale size")
	fs.StringVar(&cfg.filterType, "filter-type", "slack", "type_id of the scale rows' filtered list")
	fs.IntVar(&cfg.rounds, "rounds", 5, "measured wrk runs per server, alternating between the stub and the limit; ratios are the median of the per-round ratios")
	fs.IntVar(&cfg.nice, "nice", -15, "niceness of the servers and wrk when run as root (0: leave it), so other work on the machine disturbs the measurement less")
	stubFlags := fs.String("stub-flags", "", "extra space-separated torq-stub flags, to measure a variant (the report then says the stub is not run as shipped)")
	fs.StringVar(&cfg.stubPkg, "stub-pkg", "./cmd/torq-stub", "package of the stub binary under test")
	fs.StringVar(&cfg.logDestination, "server-log", "file", `where the servers' output goes: "file" (one per run in the temp dir) or "null" (/dev/null)`)
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.stubFlags = strings.Fields(*stubFlags)
	cfg.benchPkgs = splitList(*pkgs)
	cfg.requireBench = splitList(*req)
	for _, v := range splitList(*sizes) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			return cfg, fmt.Errorf("-scale-sizes: %q is not a size of at least 2", v)
		}
		cfg.scaleSizes = append(cfg.scaleSizes, n)
	}
	if cfg.duration < time.Second || cfg.soak < 3*time.Second {
		return cfg, errors.New("-duration must be at least 1s and -soak at least 3s")
	}
	if cfg.rounds < 1 || cfg.scaleRuns < 1 || cfg.readyRuns < 1 {
		return cfg, errors.New("-rounds, -scale-runs and -ready-runs must be at least 1")
	}
	if cfg.logDestination != "file" && cfg.logDestination != "null" {
		return cfg, fmt.Errorf("-server-log %q: want file or null", cfg.logDestination)
	}
	return cfg, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// runner carries one run's state.
type runner struct {
	cfg      config
	sup      *supervisor
	log      io.Writer
	tmp      string
	stubBin  string
	limitBin string
	floorBin string
}

// logf reports progress on stderr.
func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.log, "bench: "+format+"\n", args...)
}

func run(ctx context.Context, cfg config, sup *supervisor, stdout, stderr io.Writer) error {
	if err := os.Chdir(cfg.root); err != nil {
		return err
	}
	for _, f := range []string{"go.mod", "openapi.yaml"} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("-root %s is not the repository root: %w", cfg.root, err)
		}
	}
	if n := runtime.NumCPU(); n < 2 || cfg.serverCore >= n || cfg.loadCore >= n || cfg.serverCore == cfg.loadCore {
		return fmt.Errorf("need two distinct cores for the server (%d) and wrk (%d); this process may use %d", cfg.serverCore, cfg.loadCore, n)
	}
	r := &runner{cfg: cfg, sup: sup, log: stderr}
	if err := r.checkTools(); err != nil {
		return err
	}
	var err error
	if r.tmp, err = os.MkdirTemp("", "torq-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(r.tmp)

	started := time.Now()
	if err := r.build(ctx); err != nil {
		return err
	}
	fixtures := filepath.Join(r.tmp, fmt.Sprintf("integrations-%d.json", cfg.fixtureSize))
	if err := writeFixtures(fixtures, benchdata.Integrations(cfg.fixtureSize)); err != nil {
		return err
	}

	rep := &report{cfg: cfg, started: started.UTC(), niced: len(r.nicePrefix()) > 0}
	rep.machine = machineInfo(ctx)
	if !cfg.skipGoBench {
		if rep.benchRaw, rep.benchstat, err = r.goBenchmarks(ctx); err != nil {
			return err
		}
		rep.perTest = newPerTest(parseGoBench(rep.benchRaw))
	}

	if rep.ready, err = r.readiness(ctx); err != nil {
		return err
	}
	if rep.workspace, err = r.probeWorkspaces(ctx); err != nil {
		return err
	}

	stubDefault, limitDefault, shareD, err := r.loadPair(ctx, "default data", nil)
	if err != nil {
		return err
	}
	stubBig, limitBig, shareB, err := r.loadPair(ctx, fmt.Sprintf("%s integrations (fixture file)", commas(cfg.fixtureSize)), []string{"--fixtures", fixtures})
	if err != nil {
		return err
	}
	prism, err := r.loadPrism(ctx)
	if err != nil {
		return err
	}
	rep.rows = []row{limitDefault, stubDefault, limitBig, stubBig, prism}
	rep.stubDefault, rep.limitDefault = &rep.rows[1], &rep.rows[0]
	rep.stubBig, rep.limitBig = &rep.rows[3], &rep.rows[2]
	rep.prism = &rep.rows[4]
	rep.shareDefault, rep.shareBig = shareD, shareB

	for _, n := range cfg.scaleSizes {
		sr, err := r.scale(ctx, n)
		if err != nil {
			return err
		}
		rep.scale = append(rep.scale, sr)
	}

	if rep.soak, err = r.soak(ctx); err != nil {
		return err
	}
	rep.elapsed = time.Since(started)

	text := rep.markdown()
	fmt.Fprint(stdout, text)
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, []byte(text), 0o644); err != nil {
			return err
		}
		r.logf("wrote %s", cfg.out)
	}
	return nil
}

// commas writes n with thousands separators.
func commas(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// writeFixtures writes items as a fixture file at path, atomically (a
// temporary file renamed over it), so a stub reloading on SIGHUP never reads
// half a file.
func writeFixtures(path string, items []generated.Integration) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := benchdata.WriteFixtures(f, items); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// command runs argv to completion within limit, its output going to w.
func (r *runner) command(ctx context.Context, limit time.Duration, w io.Writer, argv ...string) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	c, err := r.sup.start(ctx, 2*time.Second, argv, w, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	<-c.done
	r.sup.stop(c)
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", strings.Join(argv, " "), ctx.Err())
	}
	if c.err != nil {
		return fmt.Errorf("%s: %w", strings.Join(argv, " "), c.err)
	}
	return nil
}

// checkTools fails, naming `make bench-tools`, when a tool the run needs is
// missing: the run installs nothing itself.
func (r *runner) checkTools() error {
	var missing []string
	for _, tool := range []string{"taskset", "wrk"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	for name, path := range map[string]string{"-prism": r.cfg.prismBin, "-benchstat": r.cfg.benchstatBin} {
		if name == "-benchstat" && r.cfg.skipGoBench {
			continue
		}
		if path == "" {
			missing = append(missing, name+" (not given)")
		} else if _, err := exec.LookPath(path); err != nil {
			missing = append(missing, path)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("missing %s: run `make bench-tools` (or `make bench`, which runs it)", strings.Join(missing, ", "))
	}
	return nil
}

// build compiles the stub as shipped, the limit server and the floor into
// the temp dir.
func (r *runner) build(ctx context.Context) error {
	r.stubBin = filepath.Join(r.tmp, "torq-stub")
	r.limitBin = filepath.Join(r.tmp, "limit")
	r.floorBin = filepath.Join(r.tmp, "floor")
	r.logf("building %s, ./internal/bench/limit and ./internal/bench/floor", r.cfg.stubPkg)
	for bin, pkg := range map[string]string{r.stubBin: r.cfg.stubPkg, r.limitBin: "./internal/bench/limit", r.floorBin: "./internal/bench/floor"} {
		if err := r.command(ctx, 5*time.Minute, r.log, "go", "build", "-o", bin, pkg); err != nil {
			return err
		}
	}
	return nil
}

// goBenchmarks runs the Go benchmarks and benchstat over their output.
func (r *runner) goBenchmarks(ctx context.Context) (raw, summary string, err error) {
	args := []string{"go", "test", "-run", "^$", "-bench", ".", "-benchmem",
		"-count", strconv.Itoa(r.cfg.benchCount), "-benchtime", r.cfg.benchTime}
	args = append(args, r.cfg.benchPkgs...)
	r.logf("%s", strings.Join(args, " "))
	var out bytes.Buffer
	if err := r.command(ctx, 20*time.Minute, io.MultiWriter(&out, r.log), args...); err != nil {
		return out.String(), "", err
	}
	// The per-test pair: one `go test -count 1` per round, so each round
	// runs apitest and then httptest back to back (with -count N, go test
	// runs one sub-benchmark N times before the other, and the rounds would
	// not be paired in time).
	pair := []string{"go", "test", "-run", "^$", "-bench", "^BenchmarkPerTest$", "-benchmem", "-count", "1", "-benchtime", r.cfg.benchTime, perTestPkg}
	r.logf("%s, %d rounds", strings.Join(pair, " "), r.cfg.benchCount)
	for range r.cfg.benchCount {
		if err := r.command(ctx, 5*time.Minute, io.MultiWriter(&out, r.log), pair...); err != nil {
			return out.String(), "", err
		}
	}
	lines := parseGoBench(out.String())
	for _, want := range r.cfg.requireBench {
		if !slices.ContainsFunc(lines, func(l benchLine) bool {
			return l.Name == want || strings.HasPrefix(l.Name, want+"/")
		}) {
			return out.String(), "", fmt.Errorf("benchmark %s did not run (packages %s)", want, strings.Join(r.cfg.benchPkgs, " "))
		}
	}
	file := filepath.Join(r.tmp, "gobench.txt")
	if err := os.WriteFile(file, out.Bytes(), 0o600); err != nil {
		return out.String(), "", err
	}
	var sum bytes.Buffer
	if err := r.command(ctx, time.Minute, &sum, r.cfg.benchstatBin, file); err != nil {
		return out.String(), "", fmt.Errorf("%w\n%s", err, sum.String())
	}
	return out.String(), sum.String(), nil
}

// server is one running server under test.
type server struct {
	name    string
	c       *child
	base    string // http://127.0.0.1:PORT
	ready   time.Duration
	logPath string
}

// serverSpec says how to start a server under test.
type serverSpec struct {
	name   string
	argv   []string
	env    []string
	pinned bool // on the server core (taskset), niced
	health func(string) (string, http.Header)
	ok     func([]byte) bool // nil: any 200 is ready
	limit  time.Duration
}

// startServer starts a server and waits until its health URL answers 200
// (and ok), polling every 5 ms; ready is the time from just before the
// process starts to that answer.
func (r *runner) startServer(ctx context.Context, sp serverSpec, port int) (*server, error) {
	logPath := os.DevNull
	if r.cfg.logDestination == "file" {
		logPath = filepath.Join(r.tmp, fmt.Sprintf("%s-%d.log", strings.ReplaceAll(sp.name, " ", "-"), port))
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	argv := sp.argv
	if sp.pinned {
		argv = append(r.nicePrefix(), append([]string{"taskset", "-c", strconv.Itoa(r.cfg.serverCore)}, argv...)...)
	}
	t0 := time.Now()
	c, err := r.sup.start(ctx, 5*time.Second, argv, logFile, sp.env)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", sp.name, err)
	}
	s := &server{name: sp.name, c: c, base: fmt.Sprintf("http://127.0.0.1:%d", port), logPath: logPath}
	url, header := sp.health(s.base)
	s.ready, err = waitReady(ctx, url, header, sp.ok, t0, c.done, 5*time.Millisecond, sp.limit)
	if err != nil {
		r.sup.stop(c)
		return nil, fmt.Errorf("%s: %w%s", sp.name, err, tail(logPath))
	}
	return s, nil
}

// nicePrefix is the command prefix giving servers and wrk the configured
// niceness; empty when it is 0 or the run is not root (only root may lower
// niceness).
func (r *runner) nicePrefix() []string {
	if r.cfg.nice == 0 || (r.cfg.nice < 0 && os.Geteuid() != 0) {
		return nil
	}
	return []string{"nice", "-n", strconv.Itoa(r.cfg.nice)}
}

// tail returns the end of a log file for an error message.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "\n--- end of " + filepath.Base(path) + " ---\n" + string(b)
}

func healthz(base string) (string, http.Header) { return base + "/healthz", nil }

// stubArgv is the stub's command line with default flags but the address.
func (r *runner) stubArgv(port int, extra []string) []string {
	argv := append([]string{r.stubBin, "--addr", fmt.Sprintf("127.0.0.1:%d", port)}, r.cfg.stubFlags...)
	return append(argv, extra...)
}

// stubSpec is the stub pinned to the server core like every server of the
// load comparison.
func (r *runner) stubSpec(name string, port int, extra []string) serverSpec {
	return serverSpec{name: name, argv: r.stubArgv(port, extra), env: goEnv, pinned: true, health: healthz, limit: 10 * time.Second}
}

// wrk is wrkArgs with the configured niceness.
func (r *runner) wrk(conns int, d time.Duration, token, url string) []string {
	return append(r.nicePrefix(), wrkArgs(r.cfg.loadCore, conns, d, token, url)...)
}

// goEnv pins a Go server's scheduler to the one core it runs on.
var goEnv = []string{"GOMAXPROCS=1"}

// readiness starts the stub readyRuns times and returns each time to its
// first 200 from /healthz.
func (r *runner) readiness(ctx context.Context) ([]time.Duration, error) {
	var out []time.Duration
	for i := range r.cfg.readyRuns {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s, err := r.startServer(ctx, r.stubSpec("torq-stub ready", port, nil), port)
		if err != nil {
			return nil, err
		}
		r.sup.stop(s.c)
		out = append(out, s.ready)
		r.logf("readiness %d/%d: %s", i+1, r.cfg.readyRuns, s.ready.Round(time.Microsecond))
	}
	return out, nil
}

// loadPair starts the stub (with extra flags) and the limit serving the
// very bytes and headers the stub answered, both pinned to the server core,
// and measures them in alternating rounds, so that whatever else the
// machine does falls on both alike; share is the stub's requests/s over the
// limit's, round by round.
func (r *runner) loadPair(ctx context.Context, data string, extra []string) (stubRow, limitRow row, share spread, err error) {
	port, err := freePort()
	if err != nil {
		return row{}, row{}, spread{}, err
	}
	st, err := r.startServer(ctx, r.stubSpec("torq-stub", port, extra), port)
	if err != nil {
		return row{}, row{}, spread{}, err
	}
	defer r.sup.stop(st.c)
	body, header, err := r.fetch(ctx, st.base+r.cfg.path)
	if err != nil {
		return row{}, row{}, spread{}, fmt.Errorf("torq-stub: %w", err)
	}

	bodyFile := filepath.Join(r.tmp, fmt.Sprintf("body-%d.json", len(body)))
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		return row{}, row{}, spread{}, err
	}
	argv := []string{r.limitBin, "--body", bodyFile}
	for _, k := range sortedKeys(header) {
		if k == "Date" || k == "Content-Length" {
			continue
		}
		for _, v := range header[k] {
			argv = append(argv, "--header", k+": "+v)
		}
	}
	if header.Get("Content-Length") == "" {
		argv = append(argv, "--no-content-length")
	}
	if port, err = freePort(); err != nil {
		return row{}, row{}, spread{}, err
	}
	argv = append(argv, "--addr", fmt.Sprintf("127.0.0.1:%d", port))
	lim, err := r.startServer(ctx, serverSpec{name: "limit", argv: argv, env: goEnv, pinned: true, health: healthz, limit: 10 * time.Second}, port)
	if err != nil {
		return row{}, row{}, spread{}, err
	}
	defer r.sup.stop(lim.c)
	limBody, limHeader, err := r.fetch(ctx, lim.base+r.cfg.path)
	if err != nil {
		return row{}, row{}, spread{}, fmt.Errorf("limit: %w", err)
	}
	if !bytes.Equal(limBody, body) {
		return row{}, row{}, spread{}, fmt.Errorf("limit: serves %d bytes, not the stub's %d", len(limBody), len(body))
	}
	for _, k := range []string{"Content-Type", "Content-Length"} {
		if limHeader.Get(k) != header.Get(k) {
			return row{}, row{}, spread{}, fmt.Errorf("limit: %s %q, the stub sent %q", k, limHeader.Get(k), header.Get(k))
		}
	}

	rows, err := r.measure(ctx, []*server{lim, st}, []string{r.cfg.path, r.cfg.path}, data, len(body))
	if err != nil {
		return row{}, row{}, spread{}, err
	}
	rows[0].data = "the stub's bytes, " + data
	if fi, err := os.Stat(st.logPath); err == nil && st.logPath != os.DevNull {
		rows[1].logBytes = fi.Size()
	}
	return rows[1], rows[0], pairedShare(rows[1].rounds, rows[0].rounds), nil
}

// pairedShare divides num's requests/s by den's round by round.
func pairedShare(num, den []wrkResult) spread {
	var ratios []float64
	for i := range min(len(num), len(den)) {
		if den[i].RPS > 0 {
			ratios = append(ratios, num[i].RPS/den[i].RPS)
		}
	}
	return newSpread(ratios)
}

// loadPrism runs Prism mocking openapi.yaml (static examples) under wrk.
func (r *runner) loadPrism(ctx context.Context) (row, error) {
	port, err := freePort()
	if err != nil {
		return row{}, err
	}
	argv := []string{r.cfg.prismBin, "mock", "-h", "127.0.0.1", "-p", strconv.Itoa(port), "openapi.yaml"}
	list := func(base string) (string, http.Header) {
		return base + r.cfg.path, http.Header{"Authorization": {"Bearer " + r.cfg.token}}
	}
	name := "Prism"
	s, err := r.startServer(ctx, serverSpec{name: name, argv: argv, pinned: true, health: list, limit: 60 * time.Second}, port)
	if err != nil {
		return row{}, err
	}
	defer r.sup.stop(s.c)
	body, _, err := r.fetch(ctx, s.base+r.cfg.path)
	if err != nil {
		return row{}, fmt.Errorf("%s: %w", name, err)
	}
	rows, err := r.measure(ctx, []*server{s}, []string{r.cfg.path}, "contract's 200 example", len(body))
	if err != nil {
		return row{}, err
	}
	return rows[0], nil
}

// fetch GETs url once with the token and returns its body and headers;
// anything but a 200 JSON answer is an error.
func (r *runner) fetch(ctx context.Context, url string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+r.cfg.token)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		return nil, nil, fmt.Errorf("GET %s: %s %s: %.300s", url, resp.Status, resp.Header.Get("Content-Type"), body)
	}
	return body, resp.Header, nil
}

// measure warms every server up, then runs rounds of measured wrk runs,
// one per server per round in alternating order, each server on its path,
// and reads each server's peak RSS. A row keeps every round; its requests/s
// and latencies are the median round's.
func (r *runner) measure(ctx context.Context, servers []*server, paths []string, data string, bodyLen int) ([]row, error) {
	rounds := make([][]wrkResult, len(servers))
	cpu := make([]time.Duration, len(servers))
	reqs := make([]int64, len(servers))
	for i, s := range servers {
		r.logf("%s (%s, %d-byte body): warm-up %s", s.name, data, bodyLen, r.cfg.warmup)
		if _, err := runWrk(ctx, r.sup, r.wrk(r.cfg.conns, r.cfg.warmup, r.cfg.token, s.base+paths[i]), r.cfg.warmup); err != nil {
			return nil, fmt.Errorf("%s warm-up: %w", s.name, err)
		}
	}
	for round := range r.cfg.rounds {
		for j := range servers {
			i := j
			if round%2 == 1 {
				i = len(servers) - 1 - j
			}
			got, used, err := r.wrkWindow(ctx, servers[i], paths[i], r.cfg.duration)
			if err != nil {
				return nil, err
			}
			cpu[i] += used
			reqs[i] += got.Requests
			rounds[i] = append(rounds[i], got)
			r.logf("%s round %d: %.0f req/s, p50 %s, p99 %s", servers[i].name, round+1, got.RPS, got.P50, got.P99)
		}
	}
	rows := make([]row, len(servers))
	for i, s := range servers {
		hwm, err := treeStatusKB(s.c.pid(), "VmHWM")
		if err != nil {
			return nil, fmt.Errorf("%s: peak RSS: %w", s.name, err)
		}
		rows[i] = row{server: s.name, data: data, bodyLen: bodyLen, wrk: medianRound(rounds[i]), rounds: rounds[i], peakKB: hwm, ready: s.ready}
		if reqs[i] > 0 {
			rows[i].cpuPerReq = cpu[i] / time.Duration(reqs[i])
		}
		r.logf("%s: median %.0f req/s, p50 %s, p99 %s, peak RSS %.1f MB, ready in %s, %s CPU per request", s.name, rows[i].wrk.RPS, rows[i].wrk.P50, rows[i].wrk.P99, rows[i].peakMB(), s.ready.Round(time.Microsecond), rows[i].cpuPerReq)
	}
	return rows, nil
}

// wrkWindow runs wrk once against s and returns its result and the CPU
// time (utime+stime, all threads, from the scheduler's counters in
// /proc/PID/stat) the server used from just before wrk started to just
// after it ended: the measured window only.
func (r *runner) wrkWindow(ctx context.Context, s *server, path string, d time.Duration) (wrkResult, time.Duration, error) {
	before, err := cpuTime(s.c.pid())
	if err != nil {
		return wrkResult{}, 0, fmt.Errorf("%s: CPU time: %w", s.name, err)
	}
	got, err := runWrk(ctx, r.sup, r.wrk(r.cfg.conns, d, r.cfg.token, s.base+path), d)
	if err != nil {
		return wrkResult{}, 0, fmt.Errorf("%s: %w", s.name, err)
	}
	after, err := cpuTime(s.c.pid())
	if err != nil {
		return wrkResult{}, 0, fmt.Errorf("%s: CPU time: %w", s.name, err)
	}
	return got, after - before, nil
}

// medianRound is the round with the median requests/s (the lower middle
// one of an even count).
func medianRound(rs []wrkResult) wrkResult {
	if len(rs) == 0 {
		return wrkResult{}
	}
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b wrkResult) int {
		switch {
		case a.RPS < b.RPS:
			return -1
		case a.RPS > b.RPS:
			return 1
		}
		return 0
	})
	return s[(len(s)-1)/2]
}

// soak runs wrk against the stub with the default data for the soak length,
// sampling its RSS every second.
func (r *runner) soak(ctx context.Context) (soakResult, error) {
	port, err := freePort()
	if err != nil {
		return soakResult{}, err
	}
	s, err := r.startServer(ctx, r.stubSpec("torq-stub soak", port, nil), port)
	if err != nil {
		return soakResult{}, err
	}
	defer r.sup.stop(s.c)
	r.logf("soak: %s against torq-stub (default data), RSS every second", r.cfg.soak)
	var out bytes.Buffer
	c, err := r.sup.start(ctx, time.Second, r.wrk(r.cfg.conns, r.cfg.soak, r.cfg.token, s.base+r.cfg.path), &out, nil)
	if err != nil {
		return soakResult{}, err
	}
	defer r.sup.stop(c)
	var samples []int64
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	limit := int(r.cfg.soak/time.Second) + 30
loop:
	for i := 0; i < limit; i++ {
		select {
		case <-ctx.Done():
			return soakResult{}, ctx.Err()
		case <-c.done:
			break loop
		case <-tick.C:
			kb, err := procStatusKB(s.c.pid(), "VmRSS")
			if err != nil {
				return soakResult{}, fmt.Errorf("soak: RSS: %w", err)
			}
			samples = append(samples, kb)
		}
	}
	select {
	case <-c.done:
	default:
		return soakResult{}, fmt.Errorf("soak: wrk still running after %d s", limit)
	}
	if c.err != nil {
		return soakResult{}, fmt.Errorf("soak: wrk: %w\n%s", c.err, out.String())
	}
	res, err := parseWrk(out.String())
	if err != nil {
		return soakResult{}, err
	}
	if res.Non2xx > 0 {
		return soakResult{}, fmt.Errorf("soak: %d of %d answers were not 2xx", res.Non2xx, res.Requests)
	}
	hwm, err := procStatusKB(s.c.pid(), "VmHWM")
	if err != nil {
		return soakResult{}, err
	}
	sr := newSoakResult(samples, r.cfg.soak, res, hwm)
	r.logf("soak: %d samples, RSS %.1f MB -> %.1f MB (%+.1f%%), %.0f req/s", len(samples), sr.firstMB, sr.lastMB, sr.growthPct, res.RPS)
	return sr, nil
}

func sortedKeys(h http.Header) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
