// Command torq-stub serves a spec-validated stub of Torq's integrations API
// (GET /public/v1alpha/integrations and the token endpoint) for testing and
// demos without a Torq workspace.
//
// Every flag has an environment twin TORQ_STUB_<FLAG> (upper snake case);
// a flag given on the command line wins. Run `torq-stub --help` for the
// flags and examples.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/torqapi/integrations/internal/auth"
	"github.com/torqapi/integrations/internal/stub"
	"github.com/torqapi/integrations/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// errUsage marks an error in the flags or the environment: exit code 2.
var errUsage = errors.New("usage")

func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "torq-stub:", strings.TrimSuffix(err.Error(), ": "+errUsage.Error()))
		return 2
	}
	fmt.Fprintln(stderr, "torq-stub:", err)
	return 1
}

// envPrefix starts the environment twin of every flag.
const envPrefix = "TORQ_STUB_"

// envName returns the environment variable of a flag: --rate-limit is
// TORQ_STUB_RATE_LIMIT.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// options are the parsed flags.
type options struct {
	addr, fixtures          string
	tokens, denied          listFlag
	clientID, clientSecret  string
	tokenTTL                time.Duration
	signingKey              string
	latency                 latencyFlag
	errorRate, rateLimit    float64
	validate, logFormat     string
	quiet, version, watch   bool
	tokensSet, secretWasSet bool
	controlToken            string
	controlOpen             bool
	controlAddr             string
	journalSize             int
	expiredToken            int
	errorStatus             int
	addrFile                string
	controlAddrFile         string
}

// repeatable flags, whose environment twins are comma-separated.
var repeatable = map[string]bool{"token": true, "denied-token": true}

// notInEnv are flags that are actions rather than settings.
var notInEnv = map[string]bool{"version": true}

func newFlagSet(o *options, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("torq-stub", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "`host:port` to listen on; 127.0.0.1:0 picks a free port (the address is printed)")
	fs.StringVar(&o.fixtures, "fixtures", "", "JSON or YAML `file`, {\"integrations\": [...]} (one workspace) or {\"workspaces\": [...]}, served instead of the embedded workspace; SIGHUP reloads it")
	fs.BoolVar(&o.watch, "watch", false, "reload the --fixtures file when it changes (debounced), as SIGHUP does")
	fs.Var(&o.tokens, "token", "accepted bearer `token` (repeatable; replaces the demo token "+auth.DemoToken+")")
	fs.Var(&o.denied, "denied-token", "bearer `token` that authenticates but answers 403 PERMISSION_DENIED (repeatable)")
	fs.StringVar(&o.clientID, "client-id", auth.DemoClientID, "client `id` the token endpoint accepts")
	fs.StringVar(&o.clientSecret, "client-secret", auth.DemoClientSecret, "client `secret` the token endpoint accepts")
	fs.DurationVar(&o.tokenTTL, "token-ttl", auth.DefaultTokenTTL, "lifetime of issued tokens")
	fs.StringVar(&o.signingKey, "signing-key", "", "`key` (at least 16 bytes) signing issued tokens; replicas sharing it accept each other's tokens (default: random at start)")
	fs.Var(&o.latency, "latency", "delay added before answering: a `duration` (50ms) or a range (50ms-200ms)")
	fs.Float64Var(&o.errorRate, "error-rate", 0, "share of requests (`0..1`) answered 503 UNAVAILABLE")
	fs.Float64Var(&o.rateLimit, "rate-limit", 0, "requests per second allowed per token (`N`, token bucket; Torq's is 50); 0 is off")
	fs.StringVar(&o.validate, "validate-responses", string(stub.ValidateStrict), "`mode` for responses that break the contract: strict (500), warn (log), off")
	fs.StringVar(&o.logFormat, "log-format", "text", "request log `format`: text or json (to stderr)")
	fs.StringVar(&o.controlToken, "control-token", "", "bearer `token` the control API (/__stub/) requires of every client (default: none, loopback clients only)")
	fs.BoolVar(&o.controlOpen, "control-open", false, "serve the control API without a token to any client, not only loopback ones")
	fs.StringVar(&o.controlAddr, "control-addr", "", "`host:port` serving the control API on a listener of its own (then not on --addr)")
	fs.IntVar(&o.journalSize, "journal-size", 0, "how many exchanges the journal keeps (`N`; 0 is the default size)")
	fs.IntVar(&o.expiredToken, "expired-token", 0, "`status` answering an expired issued token: 302 (Torq's, the default) or 401")
	fs.IntVar(&o.errorStatus, "error-status", 0, "`status` of --error-rate failures: 503 (the default) or 502 (an edge proxy's HTML page)")
	fs.StringVar(&o.addrFile, "addr-file", "", "`file` the chosen host:port is written to (atomically, one line) once listening; for --addr 127.0.0.1:0")
	fs.StringVar(&o.controlAddrFile, "control-addr-file", "", "`file` the chosen --control-addr host:port is written to, as --addr-file")
	fs.BoolVar(&o.quiet, "quiet", false, "no request lines and a one-line banner (warnings, errors, reloads are still logged)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.Usage = func() {}
	return fs
}

func usage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprint(w, `torq-stub serves a spec-validated stub of Torq's integrations API.

Usage: torq-stub [flags]

Every flag has an environment twin TORQ_STUB_<FLAG> (--rate-limit is
TORQ_STUB_RATE_LIMIT); flags win over the environment; repeatable flags take
comma-separated values there.

Flags:
`)
	fs.VisitAll(func(f *flag.Flag) {
		name, use := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, use)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		if !notInEnv[f.Name] {
			fmt.Fprintf(w, " [$%s]", envName(f.Name))
		}
		fmt.Fprintln(w)
	})
	fmt.Fprint(w, `
Examples:
  torq-stub
  torq-stub --addr 127.0.0.1:0 --quiet
  torq-stub --fixtures my-workspace.yaml          # kill -HUP <pid> reloads it
  torq-stub --fixtures my-workspace.yaml --watch  # reloads it on every change
  torq-stub --token my-token --denied-token read-only-token
  torq-stub --latency 50ms-200ms --error-rate 0.1 --rate-limit 50
  TORQ_STUB_RATE_LIMIT=50 TORQ_STUB_LOG_FORMAT=json torq-stub

  curl -s -H 'Authorization: Bearer torq-stub-token' http://127.0.0.1:8080/public/v1alpha/integrations
  curl -s -H 'Authorization: Bearer torq-stub-token' -H 'Prefer: code=429' -i http://127.0.0.1:8080/public/v1alpha/integrations
`)
}

// parse reads flags, then fills every flag not given from its environment
// twin. Errors wrap errUsage.
func parse(args []string, getenv func(string) string, stdout io.Writer) (*options, error) {
	o := &options{}
	fs := newFlagSet(o, io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			usage(fs)
			return nil, err
		}
		return nil, fmt.Errorf("%w (see --help): %w", err, errUsage)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (see --help): %w", fs.Arg(0), errUsage)
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if envErr != nil || given[f.Name] || notInEnv[f.Name] {
			return
		}
		name := envName(f.Name)
		v, ok := lookup(getenv, name)
		if !ok {
			return
		}
		values := []string{v}
		if repeatable[f.Name] {
			values = splitComma(v)
		}
		for _, v := range values {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("$%s: %w: %w", name, err, errUsage)
				return
			}
		}
		given[f.Name] = true
	})
	if envErr != nil {
		return nil, envErr
	}
	o.tokensSet = given["token"]
	o.secretWasSet = given["client-secret"] && o.clientSecret != auth.DemoClientSecret
	return o, o.check()
}

// lookup is getenv where an empty value counts as unset.
func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (o *options) check() error {
	switch stub.ResponseValidation(o.validate) {
	case stub.ValidateStrict, stub.ValidateWarn, stub.ValidateOff:
	default:
		return fmt.Errorf("--validate-responses %q: want strict, warn or off: %w", o.validate, errUsage)
	}
	switch o.logFormat {
	case "text", "json":
	default:
		return fmt.Errorf("--log-format %q: want text or json: %w", o.logFormat, errUsage)
	}
	if !(o.errorRate >= 0 && o.errorRate <= 1) {
		return fmt.Errorf("--error-rate %v: want a share between 0 and 1: %w", o.errorRate, errUsage)
	}
	if !(o.rateLimit >= 0) || o.rateLimit > 1e9 {
		return fmt.Errorf("--rate-limit %v: want 0 (off) or a positive number of requests per second: %w", o.rateLimit, errUsage)
	}
	if o.tokenTTL <= 0 {
		return fmt.Errorf("--token-ttl %v: want a positive duration: %w", o.tokenTTL, errUsage)
	}
	if o.signingKey != "" && len(o.signingKey) < auth.MinSigningKeyLen {
		return fmt.Errorf("--signing-key: want at least %d bytes: %w", auth.MinSigningKeyLen, errUsage)
	}
	if o.clientID == "" || o.clientSecret == "" {
		return fmt.Errorf("--client-id and --client-secret must not be empty: %w", errUsage)
	}
	if o.watch && o.fixtures == "" {
		return fmt.Errorf("--watch needs a --fixtures file: %w", errUsage)
	}
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		return fmt.Errorf("--addr %q: %v: %w", o.addr, err, errUsage)
	}
	if o.controlAddr != "" {
		if _, _, err := net.SplitHostPort(o.controlAddr); err != nil {
			return fmt.Errorf("--control-addr %q: %v: %w", o.controlAddr, err, errUsage)
		}
	}
	if o.controlAddrFile != "" && o.controlAddr == "" {
		return fmt.Errorf("--control-addr-file needs --control-addr: %w", errUsage)
	}
	return nil
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("must not be empty")
	}
	*l = append(*l, v)
	return nil
}

// latencyFlag is a duration or a range "min-max".
type latencyFlag struct{ min, max time.Duration }

func (l *latencyFlag) String() string {
	if l.min == l.max {
		if l.min == 0 {
			return ""
		}
		return l.min.String()
	}
	return l.min.String() + "-" + l.max.String()
}

func (l *latencyFlag) Set(v string) error {
	lo, hi, isRange := strings.Cut(strings.TrimSpace(v), "-")
	min, err := time.ParseDuration(strings.TrimSpace(lo))
	if err != nil {
		return fmt.Errorf("want a duration like 50ms or a range like 50ms-200ms")
	}
	max := min
	if isRange {
		if max, err = time.ParseDuration(strings.TrimSpace(hi)); err != nil {
			return fmt.Errorf("want a duration like 50ms or a range like 50ms-200ms")
		}
	}
	if min < 0 || max < min {
		return fmt.Errorf("want 0 <= min <= max")
	}
	l.min, l.max = min, max
	return nil
}

// run is the whole program: parse, build the stub, serve until ctx ends,
// reload on SIGHUP, shut down gracefully.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parse(args, getenv, stdout)
	if err != nil {
		return err
	}
	if o.version {
		fmt.Fprintln(stdout, "torq-stub", version.String())
		return nil
	}
	// The request log is written by log/slog's own handlers, a line per
	// write, to a batchWriter: lines that pile up while one is being
	// written go out in one system call (see batchWriter).
	logOut := newBatchWriter(stderr)
	defer logOut.Close()
	newHandler := func(level slog.Level) slog.Handler {
		if o.logFormat == "json" {
			return slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: level})
		}
		return slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: level})
	}
	// The program's own messages (reload, shutdown) are always logged;
	// --quiet silences the stub's request lines only.
	handler := newHandler(slog.LevelInfo)
	logger := slog.New(handler)
	stubLogger := logger
	if o.quiet {
		stubLogger = slog.New(newHandler(slog.LevelWarn))
	}

	cfg := stub.Config{
		FixturesFile: o.fixtures,
		Auth: auth.Config{
			Tokens:       o.tokens,
			DeniedTokens: o.denied,
			ClientID:     o.clientID,
			ClientSecret: o.clientSecret,
			TokenTTL:     o.tokenTTL,
		},
		LatencyMin:        o.latency.min,
		LatencyMax:        o.latency.max,
		ErrorRate:         o.errorRate,
		RateLimit:         o.rateLimit,
		ValidateResponses: stub.ResponseValidation(o.validate),
		Logger:            stubLogger,
		ControlToken:      o.controlToken,
		ControlOpen:       o.controlOpen,
		SeparateControl:   o.controlAddr != "",
		JournalSize:       o.journalSize,
		ExpiredToken:      o.expiredToken,
		ErrorStatus:       o.errorStatus,
	}
	if o.signingKey != "" {
		cfg.Auth.SigningKey = []byte(o.signingKey)
	}
	restoreGC := loadingGC(getenv)
	s, err := stub.NewHandler(cfg)
	restoreGC()
	if err != nil {
		// The rules on Config are the stub's (checkConfig, auth.New); a
		// value they refuse came from a flag or its twin: a usage error.
		// A fixtures file that fails to load is not (exit 1): on this
		// error path only, the same Config without the file tells which.
		noFile := cfg
		noFile.FixturesFile = ""
		if cfg.FixturesFile == "" {
			return fmt.Errorf("%w: %w", err, errUsage)
		}
		if _, cerr := stub.NewHandler(noFile); cerr != nil {
			return fmt.Errorf("%w: %w", cerr, errUsage)
		}
		return err
	}

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	lim := defaultLimits(o.latency.max)
	srv := newServer(s, lim, slog.NewLogLogger(handler, slog.LevelWarn))
	ln = lim.listener(ln)
	var ctlSrv *http.Server
	var ctlLn net.Listener
	if o.controlAddr != "" {
		if ctlLn, err = net.Listen("tcp", o.controlAddr); err != nil {
			ln.Close()
			return err
		}
		ctlSrv = newServer(s.ControlHandler(), lim, slog.NewLogLogger(handler, slog.LevelWarn))
		ctlLn = lim.listener(ctlLn)
	}
	closeAll := func() {
		ln.Close()
		if ctlLn != nil {
			ctlLn.Close()
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	changed := make(chan struct{}, 1)
	if o.watch {
		watchCtx, stopWatch := context.WithCancel(ctx)
		defer stopWatch()
		if err := watchFile(watchCtx, o.fixtures, watchDebounce, changed); err != nil {
			closeAll()
			return err
		}
	}

	base := "http://" + ln.Addr().String()
	ctlBase := base
	if ctlLn != nil {
		ctlBase = "http://" + ctlLn.Addr().String()
	}
	banner(stdout, o, base, s.Len())
	if ctlLn != nil && !o.quiet {
		fmt.Fprintf(stdout, "  control:     %s/__stub/ (its own listener)\n", ctlBase)
	}
	if w := accessWarning(o); w != "" {
		logger.Warn(w)
	}
	if err := writeAddrFile(o.addrFile, ln.Addr().String()); err != nil {
		closeAll()
		return err
	}
	if ctlLn != nil {
		if err := writeAddrFile(o.controlAddrFile, ctlLn.Addr().String()); err != nil {
			closeAll()
			return err
		}
	}

	serveErr := make(chan error, 2)
	go func() { serveErr <- srv.Serve(ln) }()
	if ctlSrv != nil {
		go func() { serveErr <- ctlSrv.Serve(ctlLn) }()
	}
	reload := func() error {
		defer loadingGC(getenv)()
		return s.Reload()
	}
	for {
		select {
		case err := <-serveErr:
			return err
		case <-hup:
			if o.fixtures == "" {
				logger.Info("SIGHUP: no --fixtures file to reload; serving the embedded data")
				continue
			}
			if err := reload(); err != nil {
				logger.Error("reload failed; the old data stays", "error", err.Error())
				continue
			}
			logger.Info("reloaded", "fixtures", o.fixtures, "integrations", s.Len())
		case <-changed:
			if err := reload(); err != nil {
				logger.Error("reload failed; the old data stays", "error", err.Error())
				continue
			}
			logger.Info("reloaded", "fixtures", o.fixtures, "integrations", s.Len())
		case <-ctx.Done():
			logger.Info("shutting down")
			var ctlErr chan error
			if ctlSrv != nil {
				ctlErr = make(chan error, 1)
				go func() { ctlErr <- shutdown(ctlSrv, lim.grace, logger) }()
			}
			err := shutdown(srv, lim.grace, logger)
			if ctlErr != nil {
				err = errors.Join(err, <-ctlErr)
			}
			if err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
			return nil
		}
	}
}

// accessWarning is the line said at start when the control API is
// reachable from beyond loopback but answers loopback clients only (the
// stub decides by the remote address): no --control-token, no
// --control-open, and a listener serving it that is not on loopback.
func accessWarning(o *options) string {
	if o.controlToken != "" || o.controlOpen {
		return ""
	}
	addr := o.addr
	if o.controlAddr != "" {
		addr = o.controlAddr
	}
	if isLoopbackAddr(addr) {
		return ""
	}
	return "the control API (/__stub/) on " + addr + " answers loopback clients only; give --control-token or --control-open to serve other clients"
}

// isLoopbackAddr reports whether the host of a host:port listens on
// loopback only: an empty host or 0.0.0.0 listens everywhere.
func isLoopbackAddr(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// writeAddrFile writes addr and a newline to path atomically (a temporary
// file in the same directory, renamed), so a harness polling path never
// reads a partial address. An empty path writes nothing.
func writeAddrFile(path, addr string) error {
	if path == "" {
		return nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("--addr-file: %w", err)
	}
	_, werr := f.WriteString(addr + "\n")
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("--addr-file: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("--addr-file: %w", err)
	}
	return nil
}

// banner prints where the stub listens and how to call it. Demo credentials
// are public values and are printed; credentials the user chose are not.
func banner(w io.Writer, o *options, base string, n int) {
	api := base + "/public"
	if o.quiet {
		fmt.Fprintf(w, "torq-stub listening on %s\n", api)
		return
	}
	data := integrations(n) + " from the embedded demo workspace"
	if o.fixtures != "" {
		data = integrations(n) + " from " + o.fixtures + " (kill -HUP " + strconv.Itoa(os.Getpid()) + " reloads it)"
	}
	fmt.Fprintf(w, "torq-stub %s listening on %s\n", version.String(), api)
	fmt.Fprintf(w, "  data:   %s\n", data)
	if o.tokensSet {
		// The user's tokens are not printed: the line expands a variable
		// the user sets, in double quotes so that the shell expands it.
		fmt.Fprintln(w, "  try:    TORQ_TOKEN=<one of your --token values>")
		fmt.Fprintf(w, "          curl -s -H \"Authorization: Bearer $TORQ_TOKEN\" %s/v1alpha/integrations\n", api)
	} else {
		fmt.Fprintf(w, "  try:    curl -s -H 'Authorization: Bearer %s' %s/v1alpha/integrations\n", auth.DemoToken, api)
		fmt.Fprintf(w, "  demo token:  %s\n", auth.DemoToken)
	}
	if o.secretWasSet {
		fmt.Fprintf(w, "  token URL:   %s/v1/auth/token (client id %s, your --client-secret)\n", base, o.clientID)
	} else {
		fmt.Fprintf(w, "  token URL:   %s/v1/auth/token\n", base)
		fmt.Fprintf(w, "  demo client: id %s, secret %s\n", o.clientID, o.clientSecret)
		fmt.Fprintf(w, "  get a token: curl -s -u '%s:%s' -d grant_type=client_credentials %s/v1/auth/token\n", o.clientID, o.clientSecret, base)
	}
	fmt.Fprintf(w, "  contract:    %s/openapi.yaml   health: %s/healthz\n", base, base)
}

// integrations is "1 integration", "2 integrations".
func integrations(n int) string {
	if n == 1 {
		return "1 integration"
	}
	return strconv.Itoa(n) + " integrations"
}
