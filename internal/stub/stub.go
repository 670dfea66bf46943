// Package stub is the spec-validated stub of Torq's integrations API: the
// whole handler stack cmd/torq-stub serves and api/apitest runs in-process.
//
// A request flows through, in order:
//
//	recover (a panic answers 500 INTERNAL, logged with its stack)
//	request log (one slog line: method, path, status, duration, request id)
//	routing (ServeMux; unknown path 404 NOT_FOUND, wrong method 405 with Allow)
//	auth (bearer token: 401 UNAUTHENTICATED, 403 PERMISSION_DENIED)
//	Prefer override (`Prefer: code=NNN` forces an error answer)
//	faults (--rate-limit 429, --latency, --error-rate 503)
//	request validation (query checks, then kin-openapi, verdicts cached)
//	the generated strict handler over an immutable snapshot of the data
//	response validation (strict by default; see below)
//
// Every error body, from every layer, is a google.rpc.Status written by
// rpcstatus.Write.
//
// The data is held as a snapshot built when it loads: the 200 body of the
// full list and of every distinct type_id is encoded once and validated once
// against the contract, and requests are answered with those bytes. A
// type_id no integration has answers the precomputed empty list. Reload
// swaps the snapshot atomically. Every other answer of the API route, each
// error included, is validated against the contract on its way out, so every
// byte served has passed the contract and none is validated twice.
package stub

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/auth"
	"github.com/torqapi/integrations/internal/contract"
	"github.com/torqapi/integrations/internal/control"
	"github.com/torqapi/integrations/internal/fixtures"
	"github.com/torqapi/integrations/internal/journal"
	"github.com/torqapi/integrations/internal/script"
	"github.com/torqapi/integrations/internal/validate"
	"github.com/torqapi/integrations/internal/workspace"
)

// ResponseValidation says what the stub does with a response that breaks
// the contract: validate.Mode, under the name its Config field has.
type ResponseValidation = validate.Mode

// The response validation modes.
const (
	// ValidateStrict (the default) logs the violation and answers 500
	// INTERNAL instead of the response.
	ValidateStrict = validate.Strict
	// ValidateWarn logs the violation and serves the response.
	ValidateWarn = validate.Warn
	// ValidateOff serves responses unchecked.
	ValidateOff = validate.Off
)

// Config configures a Stub. The zero value serves the embedded default
// workspace to the demo token with strict response validation.
type Config struct {
	// Integrations is the default workspace's data when FixturesFile is
	// ""; nil => fixtures.Default().
	Integrations []generated.Integration
	// FixturesFile is a JSON or YAML file loaded at NewHandler, in either
	// form: {"integrations": [...]} (the default workspace's data) or
	// {"workspaces": [...]}. Reload re-reads it.
	FixturesFile string
	// ControlToken, when set, is the bearer token every control API
	// request (/__stub/) must carry. Without one the control API answers
	// loopback clients only, unless ControlOpen.
	ControlToken string
	// ControlOpen serves the control API without a token to any client.
	ControlOpen bool
	// SeparateControl leaves /__stub/ out of the stub's handler, for a
	// control API served on a listener of its own (ControlHandler).
	SeparateControl bool
	// ReloadSettle is how long Reload waits for FixturesFile to stay
	// unchanged before reading it, so a file being written is not served
	// half-written (fixtures.LoadStable); 0 => fixtures.DefaultSettle.
	ReloadSettle time.Duration
	// Auth configures tokens and the token endpoint.
	Auth auth.Config
	// LatencyMin and LatencyMax bound a uniformly random delay added before
	// answering an authenticated request; equal (or LatencyMax 0) => fixed.
	LatencyMin, LatencyMax time.Duration
	// ErrorRate is the share of authenticated requests (0..1) answered
	// with ErrorStatus.
	ErrorRate float64
	// ErrorStatus is the answer of ErrorRate's failures: 503 (the default)
	// UNAVAILABLE, or 502, Torq's edge's HTML page.
	ErrorStatus int
	// RateLimit is the requests per second allowed per principal (token
	// bucket, burst of one second's worth); 0 => off. Past it: 429
	// RESOURCE_EXHAUSTED with Retry-After and google.rpc.RetryInfo.
	RateLimit float64
	// ExpiredToken is the HTTP status of the answer to an expired issued
	// token: 302 (the default), as Torq's errors page documents it, or 401
	// UNAUTHENTICATED as the gateway's own auth would answer.
	ExpiredToken int
	// JournalSize is how many exchanges of Torq's API the journal keeps,
	// the newest; 0 => journal.DefaultSize. Memory stays flat however many
	// requests come.
	JournalSize int
	// ValidateResponses is "strict" (default), "warn" or "off".
	ValidateResponses ResponseValidation
	// Logger receives one line per request and the stub's warnings;
	// nil => discard.
	Logger *slog.Logger
}

// Stub is the stub's whole handler stack (all routes). It is safe for
// concurrent use; Reload may run while it serves.
type Stub struct {
	cfg       Config
	log       *slog.Logger
	auth      *auth.Authenticator
	validator *validate.Validator                      // routes and validates Torq's API
	list      *validate.Operation                      // ListIntegrations, whose bodies are precomputed
	queries   map[*validate.Operation]*queryRules      // grpc-gateway's query rules, per operation
	handler   http.Handler                             // routing and everything below it
	handlers  map[*validate.Operation]http.HandlerFunc // the generated handler of every operation

	store    atomic.Pointer[workspace.Store] // replaced whole by Reload
	reloadMu sync.Mutex
	control  http.Handler // the control API, access checked
	// controlDigest is the SHA-256 of Config.ControlToken.
	controlDigest [sha256.Size]byte

	limiters *limiterSet // nil: no rate limit
	scripts  script.Set
	journal  *journal.Journal

	idPrefix string
	idSeq    atomic.Uint64

	tokenReadTimeout time.Duration

	// Seams for tests; set before serving.
	now    func() time.Time
	since  func(time.Time) time.Duration
	sleep  func(ctx context.Context, d time.Duration) error
	random func() float64
}

// sharedValidator parses the embedded contract once per process: the
// Validator is immutable once built, so every stub in a process (api/apitest
// builds one per test) shares it instead of parsing the contract again.
var sharedValidator = sync.OnceValues(func() (*validate.Validator, error) {
	doc, err := contract.Load()
	if err != nil {
		return nil, err
	}
	return validate.New(doc)
})

// MaxBodyBytes bounds every request body the stub reads outside the
// control API (only the token endpoint reads one).
const MaxBodyBytes = 64 << 10

// NewHandler validates cfg, loads and validates the data, and returns the
// stub's handler stack. A bad fixtures file is an error naming the file,
// the item and the field; nothing of it is served.
func NewHandler(cfg Config) (*Stub, error) {
	if err := checkConfig(&cfg); err != nil {
		return nil, err
	}
	v, err := sharedValidator()
	if err != nil {
		return nil, fmt.Errorf("stub: %w", err)
	}
	// The one operation whose answers are data: its 200 bodies are built
	// when the data loads.
	list, err := v.Operation(http.MethodGet, "/v1alpha/integrations")
	if err != nil {
		return nil, fmt.Errorf("stub: %w", err)
	}
	queries := map[*validate.Operation]*queryRules{}
	for _, op := range v.Operations() {
		queries[op] = newQueryRules(op)
	}
	var prefix [4]byte
	_, _ = rand.Read(prefix[:])
	s := &Stub{
		cfg:       cfg,
		log:       cfg.Logger,
		validator: v,
		list:      list,
		queries:   queries,
		idPrefix:  hex.EncodeToString(prefix[:]) + "-",

		tokenReadTimeout: TokenReadTimeout,
		now:              time.Now,
		since:            time.Since,
		sleep:            sleepContext,
		random:           mrand.Float64,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.journal = journal.New(cfg.JournalSize)
	if cfg.RateLimit > 0 {
		s.limiters = newLimiterSet(cfg.RateLimit)
	}
	acfg := cfg.Auth
	acfg.Credentials = storeCredentials{s}
	if s.auth, err = auth.New(acfg); err != nil {
		return nil, fmt.Errorf("stub: %w", err)
	}
	specs, err := s.loadSpecs(false)
	if err != nil {
		return nil, fmt.Errorf("stub: %w", err)
	}
	store, err := workspace.New(specs)
	if err != nil {
		return nil, fmt.Errorf("stub: %w", err)
	}
	s.store.Store(store)
	s.controlDigest = sha256.Sum256([]byte(cfg.ControlToken))
	if s.control, err = s.controlHandler(); err != nil {
		return nil, fmt.Errorf("stub: %w", err)
	}
	if s.handlers, err = s.operationHandlers(v.Operations()); err != nil {
		return nil, fmt.Errorf("stub: %w", err)
	}
	s.handler = s.routes()
	return s, nil
}

func checkConfig(cfg *Config) error {
	switch cfg.ValidateResponses {
	case "":
		cfg.ValidateResponses = ValidateStrict
	case ValidateStrict, ValidateWarn, ValidateOff:
	default:
		return fmt.Errorf("stub: ValidateResponses is %q, want strict, warn or off", cfg.ValidateResponses)
	}
	if cfg.JournalSize < 0 || cfg.JournalSize > journal.MaxSize {
		return fmt.Errorf("stub: JournalSize is %d, want 0 (the default, %d) to %d", cfg.JournalSize, journal.DefaultSize, journal.MaxSize)
	}
	switch cfg.ErrorStatus {
	case 0:
		cfg.ErrorStatus = http.StatusServiceUnavailable
	case http.StatusServiceUnavailable, http.StatusBadGateway:
	default:
		return fmt.Errorf("stub: ErrorStatus is %d, want 503 or 502", cfg.ErrorStatus)
	}
	switch cfg.ExpiredToken {
	case 0:
		cfg.ExpiredToken = http.StatusFound
	case http.StatusFound, http.StatusUnauthorized:
	default:
		return fmt.Errorf("stub: ExpiredToken is %d, want 302 or 401", cfg.ExpiredToken)
	}
	if cfg.LatencyMin < 0 || cfg.LatencyMax < 0 {
		return errors.New("stub: latency must not be negative")
	}
	if cfg.LatencyMax == 0 {
		cfg.LatencyMax = cfg.LatencyMin
	}
	if cfg.LatencyMin > cfg.LatencyMax {
		return fmt.Errorf("stub: latency range %v-%v: the minimum is above the maximum", cfg.LatencyMin, cfg.LatencyMax)
	}
	if !(cfg.ErrorRate >= 0 && cfg.ErrorRate <= 1) {
		return fmt.Errorf("stub: ErrorRate is %v, want 0..1", cfg.ErrorRate)
	}
	if !(cfg.RateLimit >= 0) || cfg.RateLimit > 1e9 {
		return fmt.Errorf("stub: RateLimit is %v, want 0 (off) or a positive number of requests per second", cfg.RateLimit)
	}
	return nil
}

// Reload re-reads Config.FixturesFile once it is stable (unchanged for
// Config.ReloadSettle) and, when every item is valid, swaps
// it in atomically; requests in flight finish with the data they started
// with. On error the old data stays and the error says why. Without a
// fixtures file there is nothing to re-read and Reload returns nil.
func (s *Stub) Reload() error {
	if s.cfg.FixturesFile == "" {
		return nil
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	specs, err := s.loadSpecs(true)
	if err != nil {
		return fmt.Errorf("stub: reload: %w", err)
	}
	store, err := workspace.New(specs)
	if err != nil {
		return fmt.Errorf("stub: reload %s: %w", s.cfg.FixturesFile, err)
	}
	s.store.Store(store)
	return nil
}

// defaultItems are the embedded default workspace, judged once per process
// and shared by every stub (its Items are immutable).
var defaultItems = sync.OnceValues(func() ([]fixtures.Item, error) {
	return fixtures.CheckValues(fixtures.Default())
})

// loadSpecs returns the workspaces the stub starts with: the fixture file's
// (once stable, when reloading), or the default workspace with
// Config.Integrations or the embedded data. The default workspace always
// exists; without credentials of its own it has Config.Auth's (the demo
// token and client by default).
func (s *Stub) loadSpecs(reload bool) ([]workspace.Spec, error) {
	var specs []workspace.Spec
	switch {
	case s.cfg.FixturesFile != "" && reload:
		ws, err := fixtures.LoadStable(s.cfg.FixturesFile, s.cfg.ReloadSettle)
		if err != nil {
			return nil, err
		}
		specs = ws
	case s.cfg.FixturesFile != "":
		ws, err := fixtures.LoadWorkspaces(s.cfg.FixturesFile)
		if err != nil {
			return nil, err
		}
		specs = ws
	case s.cfg.Integrations != nil:
		items, err := fixtures.CheckValues(s.cfg.Integrations)
		if err != nil {
			return nil, err
		}
		specs = []workspace.Spec{{ID: DefaultWorkspace, Integrations: items}}
	default:
		items, err := defaultItems()
		if err != nil {
			return nil, err
		}
		specs = []workspace.Spec{{ID: DefaultWorkspace, Integrations: items}}
	}
	i := slices.IndexFunc(specs, func(w workspace.Spec) bool { return w.ID == DefaultWorkspace })
	if i < 0 {
		specs = append([]workspace.Spec{{ID: DefaultWorkspace}}, specs...)
		i = 0
	}
	if d := &specs[i]; d.Tokens == nil && d.DeniedTokens == nil && d.Clients == nil {
		creds := s.cfg.Auth.Workspace()
		d.Tokens, d.DeniedTokens = creds.Tokens, creds.DeniedTokens
		for _, c := range creds.Clients {
			d.Clients = append(d.Clients, workspace.Client{ID: c.ID, Secret: c.Secret})
		}
	}
	return specs, nil
}

// storeCredentials resolves credentials through the stub's current store,
// so a workspace's credentials and data change together.
type storeCredentials struct{ s *Stub }

func (c storeCredentials) WorkspaceForToken(digest auth.TokenDigest) (string, bool, bool) {
	return c.s.store.Load().WorkspaceForDigest(digest)
}

func (c storeCredentials) ClientWorkspace(id, secret string) (string, bool) {
	return c.s.store.Load().ClientWorkspace(id, secret)
}

func (c storeCredentials) WorkspaceForClient(id string) (string, bool) {
	return c.s.store.Load().WorkspaceForClient(id)
}

// Workspaces returns the stub's workspace store.
func (s *Stub) Workspaces() *workspace.Store { return s.store.Load() }

// Journal returns the stub's record of the exchanges of Torq's API.
func (s *Stub) Journal() *journal.Journal { return s.journal }

// Len returns how many integrations the stub serves now, over all
// workspaces (an item shared into another workspace counts in each).
func (s *Stub) Len() int {
	n := 0
	for _, w := range s.store.Load().List() {
		n += w.Integrations
	}
	return n
}

// ServeHTTP serves every route of the stub.
func (s *Stub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The control API bounds its own bodies (a workspace's data can be
	// megabytes); every other body is at most MaxBodyBytes.
	if r.Body != nil && r.Body != http.NoBody && !strings.HasPrefix(r.URL.Path, control.Prefix) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	}
	s.serveLogged(w, r, s.handler)
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
