// Command loadcompare is `make bench`: in one run on one machine it runs the
// Go benchmarks (the stub's handler stack, response validation, the client
// decoding lists), then a load comparison with wrk of the stub as shipped,
// the limit (a bare net/http server writing the very bytes the stub returns)
// and Stoplight Prism mocking the same openapi.yaml, each server pinned to
// one core and wrk to the other. It measures requests per second, p50 and
// p99 latency, peak RSS, server CPU time per request, readiness and RSS
// growth over a soak, checks them against the project's targets and writes
// a markdown report.
//
//	go run ./internal/bench/cmd/loadcompare -soak 60s -out internal/bench/RESULTS.md
//
// A missed target prints FAIL in the report; the command itself fails only
// when something cannot run (a build, a server that does not start, wrk
// seeing errors). wrk and Prism are installed when missing (apt-get, npm).
// Every child process is ended on return and on Ctrl-C.
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
	prismVersion     string
	fixtureSize      int
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
	fs.DurationVar(&cfg.duration, "duration", 5*time.Second, "measured wrk run per server")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "wrk warm-up before each measured run")
	fs.DurationVar(&cfg.soak, "soak", 60*time.Second, "soak length against the stub (RSS sampled every second)")
	fs.IntVar(&cfg.conns, "connections", 16, "wrk connections")
	fs.IntVar(&cfg.serverCore, "server-core", 0, "core the server under test is pinned to")
	fs.IntVar(&cfg.loadCore, "load-core", 1, "core wrk is pinned to")
	fs.StringVar(&cfg.path, "path", "/v1alpha/integrations", "request path, the same for every server (Prism serves the contract's paths without the /public server prefix)")
	fs.StringVar(&cfg.token, "token", "torq-stub-token", "bearer token sent by wrk")
	fs.IntVar(&cfg.benchCount, "benchcount", 3, "go test -count for the Go benchmarks (the median is reported)")
	fs.StringVar(&cfg.benchTime, "benchtime", "1s", "go test -benchtime")
	pkgs := fs.String("benchpkgs", "./internal/stub/,./api/,./internal/bench/benchdata/", "comma-separated packages whose benchmarks run")
	req := fs.String("require", "BenchmarkHandler,BenchmarkValidateResponse,BenchmarkDecodeList,BenchmarkValidateList", "comma-separated benchmarks that must be among the results")
	fs.BoolVar(&cfg.skipGoBench, "skip-gobench", false, "skip the Go benchmarks (for trying the load part alone)")
	fs.IntVar(&cfg.readyRuns, "ready-runs", 5, "starts of the stub timed to its first 200 from /healthz (median reported)")
	fs.StringVar(&cfg.prismVersion, "prism-version", "5.16.0", "@stoplight/prism-cli version, installed under .cache when missing")
	fs.IntVar(&cfg.fixtureSize, "fixture-size", 1000, "integrations in the generated fixture file")
	fs.IntVar(&cfg.rounds, "rounds", 4, "measured wrk runs per server, alternating between the stub and the limit; the one with the most requests/s is kept (the machine may be shared)")
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
	if cfg.duration < time.Second || cfg.soak < 3*time.Second {
		return cfg, errors.New("-duration must be at least 1s and -soak at least 3s")
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
	prismBin string
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
	var err error
	if r.tmp, err = os.MkdirTemp("", "torq-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(r.tmp)

	started := time.Now()
	if err := r.ensureTools(ctx); err != nil {
		return err
	}
	if err := r.build(ctx); err != nil {
		return err
	}
	fixtures := filepath.Join(r.tmp, fmt.Sprintf("integrations-%d.json", cfg.fixtureSize))
	if err := writeFixtures(fixtures, cfg.fixtureSize); err != nil {
		return err
	}

	rep := &report{cfg: cfg, started: started.UTC(), niced: len(r.nicePrefix()) > 0}
	rep.machine = machineInfo(ctx)
	if !cfg.skipGoBench {
		if rep.benches, rep.benchRaw, err = r.goBenchmarks(ctx); err != nil {
			return err
		}
	}

	if rep.ready, err = r.readiness(ctx); err != nil {
		return err
	}

	stubDefault, limitDefault, err := r.loadPair(ctx, "default data", nil)
	if err != nil {
		return err
	}
	stubBig, limitBig, err := r.loadPair(ctx, fmt.Sprintf("%s integrations (fixture file)", commas(cfg.fixtureSize)), []string{"--fixtures", fixtures})
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

// writeFixtures writes the generated list of n integrations to path.
func writeFixtures(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := benchdata.WriteFixtures(f, benchdata.Integrations(n)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// command runs argv to completion within limit, its output going to w.
func (r *runner) command(ctx context.Context, limit time.Duration, w io.Writer, env []string, argv ...string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = w, w
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	c, err := r.sup.start(cmd)
	if err != nil {
		return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		r.sup.stop(c, 2*time.Second)
		return ctx.Err()
	case <-time.After(limit):
		r.sup.stop(c, 2*time.Second)
		return fmt.Errorf("%s: did not finish within %s", strings.Join(argv, " "), limit)
	}
	r.sup.stop(c, time.Second)
	if c.err != nil {
		return fmt.Errorf("%s: %w", strings.Join(argv, " "), c.err)
	}
	return nil
}

// ensureTools installs wrk (apt-get) and Prism (npm, into .cache) when they
// are missing.
func (r *runner) ensureTools(ctx context.Context) error {
	for _, tool := range []string{"taskset", "wrk"} {
		if _, err := exec.LookPath(tool); err == nil {
			continue
		}
		pkg := map[string]string{"taskset": "util-linux", "wrk": "wrk"}[tool]
		if err := r.aptInstall(ctx, pkg); err != nil {
			return fmt.Errorf("%s is missing and could not be installed: %w", tool, err)
		}
	}
	dir, err := filepath.Abs(filepath.Join(".cache", "prism-"+r.cfg.prismVersion))
	if err != nil {
		return err
	}
	r.prismBin = filepath.Join(dir, "node_modules", ".bin", "prism")
	var out bytes.Buffer
	if err := r.command(ctx, time.Minute, &out, nil, r.prismBin, "--version"); err == nil && strings.TrimSpace(out.String()) == r.cfg.prismVersion {
		return nil
	}
	if _, err := exec.LookPath("npm"); err != nil {
		if err := r.aptInstall(ctx, "nodejs", "npm"); err != nil {
			return fmt.Errorf("npm is missing and could not be installed: %w", err)
		}
	}
	r.logf("installing @stoplight/prism-cli@%s into %s", r.cfg.prismVersion, dir)
	if err := r.command(ctx, 10*time.Minute, r.log, nil, "npm", "install", "--no-audit", "--no-fund", "--prefix", dir, "@stoplight/prism-cli@"+r.cfg.prismVersion); err != nil {
		return err
	}
	out.Reset()
	if err := r.command(ctx, time.Minute, &out, nil, r.prismBin, "--version"); err != nil {
		return fmt.Errorf("prism after install: %w\n%s", err, out.String())
	}
	if got := strings.TrimSpace(out.String()); got != r.cfg.prismVersion {
		return fmt.Errorf("prism --version says %q, want %s", got, r.cfg.prismVersion)
	}
	return nil
}

// aptInstall installs Debian packages, refreshing the package lists once if
// the first try fails.
func (r *runner) aptInstall(ctx context.Context, pkgs ...string) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("not root: install %s by hand", strings.Join(pkgs, " "))
	}
	r.logf("apt-get install -y %s", strings.Join(pkgs, " "))
	env := []string{"DEBIAN_FRONTEND=noninteractive"}
	args := append([]string{"apt-get", "install", "-y"}, pkgs...)
	if err := r.command(ctx, 10*time.Minute, r.log, env, args...); err == nil {
		return nil
	}
	if err := r.command(ctx, 10*time.Minute, r.log, env, "apt-get", "update"); err != nil {
		return err
	}
	return r.command(ctx, 10*time.Minute, r.log, env, args...)
}

// build compiles the stub as shipped and the limit server into the temp dir.
func (r *runner) build(ctx context.Context) error {
	r.stubBin = filepath.Join(r.tmp, "torq-stub")
	r.limitBin = filepath.Join(r.tmp, "limit")
	r.logf("building %s and ./internal/bench/limit", r.cfg.stubPkg)
	if err := r.command(ctx, 5*time.Minute, r.log, nil, "go", "build", "-o", r.stubBin, r.cfg.stubPkg); err != nil {
		return err
	}
	return r.command(ctx, 5*time.Minute, r.log, nil, "go", "build", "-o", r.limitBin, "./internal/bench/limit")
}

// goBenchmarks runs the Go benchmarks and summarizes them.
func (r *runner) goBenchmarks(ctx context.Context) ([]benchSummary, string, error) {
	args := []string{"go", "test", "-run", "^$", "-bench", ".", "-benchmem",
		"-count", strconv.Itoa(r.cfg.benchCount), "-benchtime", r.cfg.benchTime}
	args = append(args, r.cfg.benchPkgs...)
	r.logf("%s", strings.Join(args, " "))
	var out bytes.Buffer
	err := r.command(ctx, 15*time.Minute, io.MultiWriter(&out, r.log), nil, args...)
	if err != nil {
		return nil, out.String(), err
	}
	sums := summarize(parseGoBench(out.String()))
	for _, want := range r.cfg.requireBench {
		if !slices.ContainsFunc(sums, func(s benchSummary) bool {
			return s.Name == want || strings.HasPrefix(s.Name, want+"/")
		}) {
			return nil, out.String(), fmt.Errorf("benchmark %s did not run (packages %s)", want, strings.Join(r.cfg.benchPkgs, " "))
		}
	}
	return sums, out.String(), nil
}

// server is one running server under test.
type server struct {
	name    string
	c       *child
	base    string // http://127.0.0.1:PORT
	ready   time.Duration
	logPath string
}

// startServer starts argv pinned to the server core and waits until
// health answers 200, polling every 5 ms.
func (r *runner) startServer(ctx context.Context, name string, argv []string, env []string, health func(base string) (string, http.Header), port int, limit time.Duration) (*server, error) {
	logPath := os.DevNull
	if r.cfg.logDestination == "file" {
		logPath = filepath.Join(r.tmp, fmt.Sprintf("%s-%d.log", strings.ReplaceAll(name, " ", "-"), port))
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	full := append(r.nicePrefix(), append([]string{"taskset", "-c", strconv.Itoa(r.cfg.serverCore)}, argv...)...)
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), env...)
	t0 := time.Now()
	c, err := r.sup.start(cmd)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &server{name: name, c: c, base: fmt.Sprintf("http://127.0.0.1:%d", port), logPath: logPath}
	url, header := health(s.base)
	s.ready, err = waitReady(ctx, url, header, t0, c.done, 5*time.Millisecond, limit)
	if err != nil {
		r.sup.stop(c, 2*time.Second)
		return nil, fmt.Errorf("%s: %w%s", name, err, tail(logPath))
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
		s, err := r.startServer(ctx, "torq-stub ready", r.stubArgv(port, nil), goEnv, healthz, port, 10*time.Second)
		if err != nil {
			return nil, err
		}
		r.sup.stop(s.c, 5*time.Second)
		out = append(out, s.ready)
		r.logf("readiness %d/%d: %s", i+1, r.cfg.readyRuns, s.ready.Round(time.Microsecond))
	}
	return out, nil
}

// loadPair starts the stub (with extra flags) and the limit serving the
// very bytes and headers the stub answered, both pinned to the server core,
// and measures them in alternating rounds, so that whatever else the
// machine does falls on both alike.
func (r *runner) loadPair(ctx context.Context, data string, extra []string) (stubRow, limitRow row, err error) {
	port, err := freePort()
	if err != nil {
		return row{}, row{}, err
	}
	st, err := r.startServer(ctx, "torq-stub", r.stubArgv(port, extra), goEnv, healthz, port, 10*time.Second)
	if err != nil {
		return row{}, row{}, err
	}
	defer r.sup.stop(st.c, 5*time.Second)
	body, header, err := r.fetch(ctx, st.base)
	if err != nil {
		return row{}, row{}, fmt.Errorf("torq-stub: %w", err)
	}

	bodyFile := filepath.Join(r.tmp, fmt.Sprintf("body-%d.json", len(body)))
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		return row{}, row{}, err
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
		return row{}, row{}, err
	}
	argv = append(argv, "--addr", fmt.Sprintf("127.0.0.1:%d", port))
	lim, err := r.startServer(ctx, "limit", argv, goEnv, healthz, port, 10*time.Second)
	if err != nil {
		return row{}, row{}, err
	}
	defer r.sup.stop(lim.c, 5*time.Second)
	limBody, limHeader, err := r.fetch(ctx, lim.base)
	if err != nil {
		return row{}, row{}, fmt.Errorf("limit: %w", err)
	}
	if !bytes.Equal(limBody, body) {
		return row{}, row{}, fmt.Errorf("limit: serves %d bytes, not the stub's %d", len(limBody), len(body))
	}
	for _, k := range []string{"Content-Type", "Content-Length"} {
		if limHeader.Get(k) != header.Get(k) {
			return row{}, row{}, fmt.Errorf("limit: %s %q, the stub sent %q", k, limHeader.Get(k), header.Get(k))
		}
	}

	rows, err := r.measure(ctx, []*server{lim, st}, data, len(body))
	if err != nil {
		return row{}, row{}, err
	}
	rows[0].data = "the stub's bytes, " + data
	if fi, err := os.Stat(st.logPath); err == nil && st.logPath != os.DevNull {
		rows[1].logBytes = fi.Size()
	}
	return rows[1], rows[0], nil
}

// loadPrism runs Prism mocking openapi.yaml (static examples) under wrk.
func (r *runner) loadPrism(ctx context.Context) (row, error) {
	port, err := freePort()
	if err != nil {
		return row{}, err
	}
	argv := []string{r.prismBin, "mock", "-h", "127.0.0.1", "-p", strconv.Itoa(port), "openapi.yaml"}
	list := func(base string) (string, http.Header) {
		return base + r.cfg.path, http.Header{"Authorization": {"Bearer " + r.cfg.token}}
	}
	name := "Prism " + r.cfg.prismVersion
	s, err := r.startServer(ctx, name, argv, nil, list, port, 60*time.Second)
	if err != nil {
		return row{}, err
	}
	defer r.sup.stop(s.c, 5*time.Second)
	body, _, err := r.fetch(ctx, s.base)
	if err != nil {
		return row{}, fmt.Errorf("%s: %w", name, err)
	}
	rows, err := r.measure(ctx, []*server{s}, "contract's 200 example", len(body))
	if err != nil {
		return row{}, err
	}
	return rows[0], nil
}

// fetch GETs the list once with the token and returns its body and headers;
// anything but a 200 JSON answer is an error.
func (r *runner) fetch(ctx context.Context, base string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+r.cfg.path, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+r.cfg.token)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		return nil, nil, fmt.Errorf("GET %s: %s %s: %.300s", r.cfg.path, resp.Status, resp.Header.Get("Content-Type"), body)
	}
	return body, resp.Header, nil
}

// measure warms every server up, then runs rounds of measured wrk runs,
// one per server per round in alternating order, keeping each server's
// run with the most requests/s, and reads each server's peak RSS.
func (r *runner) measure(ctx context.Context, servers []*server, data string, bodyLen int) ([]row, error) {
	best := make([]wrkResult, len(servers))
	cpu := make([]time.Duration, len(servers))
	reqs := make([]int64, len(servers))
	for _, s := range servers {
		r.logf("%s (%s, %d-byte body): warm-up %s", s.name, data, bodyLen, r.cfg.warmup)
		if _, err := runWrk(ctx, r.sup, r.wrk(r.cfg.conns, r.cfg.warmup, r.cfg.token, s.base+r.cfg.path), r.cfg.warmup); err != nil {
			return nil, fmt.Errorf("%s warm-up: %w", s.name, err)
		}
	}
	for round := range max(1, r.cfg.rounds) {
		for j := range servers {
			i := j
			if round%2 == 1 {
				i = len(servers) - 1 - j
			}
			s := servers[i]
			before, err := cpuTime(s.c.pid())
			if err != nil {
				return nil, fmt.Errorf("%s: CPU time: %w", s.name, err)
			}
			got, err := runWrk(ctx, r.sup, r.wrk(r.cfg.conns, r.cfg.duration, r.cfg.token, s.base+r.cfg.path), r.cfg.duration)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
			after, err := cpuTime(s.c.pid())
			if err != nil {
				return nil, fmt.Errorf("%s: CPU time: %w", s.name, err)
			}
			cpu[i] += after - before
			reqs[i] += got.Requests
			r.logf("%s round %d: %.0f req/s, p50 %s, p99 %s", s.name, round+1, got.RPS, got.P50, got.P99)
			if got.RPS > best[i].RPS {
				best[i] = got
			}
		}
	}
	rows := make([]row, len(servers))
	for i, s := range servers {
		hwm, err := treeStatusKB(s.c.pid(), "VmHWM")
		if err != nil {
			return nil, fmt.Errorf("%s: peak RSS: %w", s.name, err)
		}
		rows[i] = row{server: s.name, data: data, bodyLen: bodyLen, wrk: best[i], peakKB: hwm, ready: s.ready}
		if reqs[i] > 0 {
			rows[i].cpuPerReq = cpu[i] / time.Duration(reqs[i])
		}
		r.logf("%s: best %.0f req/s, p50 %s, p99 %s, peak RSS %.1f MB, ready in %s, %s CPU per request", s.name, best[i].RPS, best[i].P50, best[i].P99, rows[i].peakMB(), s.ready.Round(time.Microsecond), rows[i].cpuPerReq)
	}
	return rows, nil
}

// soak runs wrk against the stub with the default data for the soak length,
// sampling its RSS every second.
func (r *runner) soak(ctx context.Context) (soakResult, error) {
	port, err := freePort()
	if err != nil {
		return soakResult{}, err
	}
	s, err := r.startServer(ctx, "torq-stub soak", r.stubArgv(port, nil), goEnv, healthz, port, 10*time.Second)
	if err != nil {
		return soakResult{}, err
	}
	defer r.sup.stop(s.c, 5*time.Second)
	r.logf("soak: %s against torq-stub (default data), RSS every second", r.cfg.soak)
	args := r.wrk(r.cfg.conns, r.cfg.soak, r.cfg.token, s.base+r.cfg.path)
	cmd := exec.Command(args[0], args[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	c, err := r.sup.start(cmd)
	if err != nil {
		return soakResult{}, err
	}
	defer r.sup.stop(c, time.Second)
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
