package apitest

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/torqapi/integrations/api"
	"github.com/torqapi/integrations/api/apitest/stubctl"
)

// Workspace is a workspace of the server with its own data and
// credentials: tests that share a server but each use their own
// workspace never see each other's data, scripts or journal entries.
type Workspace struct {
	// ID is the workspace's id.
	ID string
	// Token is a static bearer token of the workspace.
	Token string
	// ClientID and ClientSecret are the workspace's OAuth2 client for the
	// server's TokenURL.
	ClientID, ClientSecret string

	srv *Server
}

// WorkspaceOption configures a new workspace.
type WorkspaceOption func(*workspaceSettings)

type workspaceSettings struct {
	id    string
	items []api.Integration
}

// WorkspaceID names the workspace (by default the stub chooses an id).
func WorkspaceID(id string) WorkspaceOption {
	return func(s *workspaceSettings) { s.id = id }
}

// WorkspaceIntegrations gives the workspace these integrations (by default
// it has none).
func WorkspaceIntegrations(items ...api.Integration) WorkspaceOption {
	return func(s *workspaceSettings) { s.items = items }
}

// Workspace creates a workspace through the control API; a refusal fails
// the test. It is not deleted at the end of the test: the server is.
func (s *Server) Workspace(t testing.TB, opts ...WorkspaceOption) *Workspace {
	t.Helper()
	var ws workspaceSettings
	for _, o := range opts {
		o(&ws)
	}
	raw, err := rawItems(ws.items)
	if err != nil {
		t.Fatalf("apitest: Server.Workspace: %v", err)
	}
	c, err := s.ctl.CreateWorkspace(context.Background(), ws.id, raw...)
	if err != nil {
		t.Fatalf("apitest: Server.Workspace: %v", err)
	}
	return &Workspace{ID: c.ID, Token: c.Token, ClientID: c.ClientID, ClientSecret: c.ClientSecret, srv: s}
}

func rawItems(items []api.Integration) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(items))
	for i, it := range items {
		b, err := json.Marshal(it)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// Client returns an *api.Client for the workspace with its client
// credentials (tokens from the server's TokenURL); opts are applied after
// those. An error fails the test.
func (w *Workspace) Client(opts ...api.Option) *api.Client {
	w.srv.t.Helper()
	return w.srv.newClient("Workspace.Client", api.WithClientCredentials(w.ClientID, w.ClientSecret), opts)
}

// TokenClient returns an *api.Client for the workspace with its static
// bearer token; opts are applied after it. An error fails the test.
func (w *Workspace) TokenClient(opts ...api.Option) *api.Client {
	w.srv.t.Helper()
	return w.srv.newClient("Workspace.TokenClient", api.WithBearerToken(w.Token), opts)
}

// SetIntegrations replaces the workspace's integrations atomically; a
// refusal (an integration the contract rejects) fails the test.
func (w *Workspace) SetIntegrations(t testing.TB, items ...api.Integration) {
	t.Helper()
	raw, err := rawItems(items)
	if err == nil {
		_, err = w.srv.ctl.ReplaceIntegrations(context.Background(), w.ID, raw...)
	}
	if err != nil {
		t.Fatalf("apitest: Workspace.SetIntegrations: %v", err)
	}
}

// Delete deletes the workspace and its scripts; an error fails the test.
func (w *Workspace) Delete(t testing.TB) {
	t.Helper()
	if err := w.srv.ctl.DeleteWorkspace(context.Background(), w.ID); err != nil {
		t.Fatalf("apitest: Workspace.Delete: %v", err)
	}
}

// Step is one scripted answer; build it with Status, RetryAfter, Redirect,
// EdgeHTML, Delay, Fault or Pass.
type Step struct{ s stubctl.Step }

// Status answers with an HTTP status and the body Torq sends with it (a
// google.rpc.Status).
func Status(code int) Step { return Step{stubctl.Step{Status: stubctl.StepStatus(code)}} }

// RetryAfter answers 429 or 503 with Retry-After (whole seconds, rounded
// up) and a google.rpc.RetryInfo of d.
func RetryAfter(code int, d time.Duration) Step {
	return Step{stubctl.Step{Status: stubctl.StepStatus(code), RetryAfter: d.String()}}
}

// Redirect answers 302, Torq's answer to an expired token.
func Redirect() Step { return Status(302) }

// EdgeHTML answers 502 with an HTML page, as Torq's edge proxy does.
func EdgeHTML() Step { return Step{stubctl.Step{Status: 502, Body: "html"}} }

// Delay gives the normal answer, d late.
func Delay(d time.Duration) Step { return Step{stubctl.Step{Delay: d.String()}} }

// Pass gives the normal answer.
func Pass() Step { return Step{stubctl.Step{Pass: true}} }

// FaultKind is a connection fault.
type FaultKind string

// The faults; see docs/control-api.md.
const (
	// Reset closes the connection without an answer.
	Reset FaultKind = "reset"
	// Truncate sends the 200 with its full Content-Length and closes the
	// connection halfway through the body.
	Truncate FaultKind = "truncate"
	// Dribble sends the normal answer a few bytes at a time.
	Dribble FaultKind = "dribble"
	// Stall sends nothing for a while, then closes the connection.
	Stall FaultKind = "stall"
)

// Fault breaks the exchange below HTTP.
func Fault(f FaultKind) Step { return Step{stubctl.Step{Fault: stubctl.StepFault(f)}} }

// WithMessage replaces the Status message of a status step.
func (s Step) WithMessage(m string) Step { s.s.Message = m; return s }

// WithDelay waits d before the step's answer (between chunks for
// Dribble, before closing for Stall).
func (s Step) WithDelay(d time.Duration) Step { s.s.Delay = d.String(); return s }

// ScriptOption narrows or repeats a script.
type ScriptOption func(*stubctl.Script)

// MatchToken makes the script answer only requests with this bearer token.
func MatchToken(token string) ScriptOption {
	return func(s *stubctl.Script) { s.Token = token }
}

// MatchQuery makes the script answer only requests whose query has this
// parameter with this value (several calls combine).
func MatchQuery(name, value string) ScriptOption {
	return func(s *stubctl.Script) {
		if s.Query == nil {
			s.Query = map[string]string{}
		}
		s.Query[name] = value
	}
}

// Repeat makes the script start over once its steps are consumed, instead
// of being removed.
func Repeat() ScriptOption { return func(s *stubctl.Script) { s.Repeat = true } }

// Script is a script added to a workspace.
type Script struct {
	// ID is the script's id in the journal's entries.
	ID  string
	srv *Server
}

// Script adds a script answering the workspace's next requests with these
// steps, one per request, in order, then normally. The items may be Steps
// and ScriptOptions; a refused script fails the test.
func (w *Workspace) Script(t testing.TB, items ...any) *Script {
	t.Helper()
	sc := stubctl.Script{Workspace: w.ID, Steps: []stubctl.Step{}}
	for _, it := range items {
		switch v := it.(type) {
		case Step:
			sc.Steps = append(sc.Steps, v.s)
		case ScriptOption:
			v(&sc)
		default:
			t.Fatalf("apitest: Workspace.Script: %T is neither a Step nor a ScriptOption", it)
		}
	}
	id, err := w.srv.ctl.CreateScript(context.Background(), sc)
	if err != nil {
		t.Fatalf("apitest: Workspace.Script: %v", err)
	}
	return &Script{ID: id, srv: w.srv}
}

// Left tells how many steps the script has left (0 once it is consumed and
// removed; for a repeating script, the rest of the current round).
func (s *Script) Left() int {
	s.srv.t.Helper()
	list, err := s.srv.ctl.Scripts(context.Background())
	if err != nil {
		s.srv.t.Fatalf("apitest: Script.Left: %v", err)
	}
	for _, st := range list {
		if st.ID == s.ID {
			return len(st.StepsLeft)
		}
	}
	return 0
}

// Entry is one request of the server's journal.
type Entry struct {
	Method string
	// Path is the URL path, such as "/public/v1alpha/integrations".
	Path  string
	Query url.Values
	// Status is the HTTP status answered; 0 when a fault dropped the
	// connection before any answer.
	Status int
	// Workspace is the workspace of the request's credentials, or "".
	Workspace string
	// RequestID is the X-Request-Id answered.
	RequestID string
	// Warnings and Violations are what the stub noted against Torq's
	// contract.
	Warnings, Violations []string
	// Script and Step name the scripted step that answered, if any (Step
	// is -1 when none did).
	Script string
	Step   int
}

// Journal returns the requests the stub answered for a workspace (every
// request for ""), oldest first. Unlike Requests, it is the stub's own
// journal: what it judged, not only what it received.
func (s *Server) Journal(workspace string) []Entry {
	s.t.Helper()
	list, err := s.ctl.Requests(context.Background(), workspace, 0)
	if err != nil {
		s.t.Fatalf("apitest: Server.Journal: %v", err)
	}
	out := make([]Entry, len(list))
	for i, e := range list {
		q, _ := url.ParseQuery(e.Query) // the stub recorded it from a parsed URL
		step := -1
		if e.Step != nil {
			step = int(*e.Step)
		}
		out[i] = Entry{
			Method: e.Method, Path: e.Path, Query: q, Status: int(e.Status), Workspace: e.Workspace,
			RequestID: e.RequestID, Warnings: e.Warnings, Violations: e.Violations, Script: e.Script, Step: step,
		}
	}
	return out
}

// ClearJournal clears a workspace's entries of the journal (every entry
// for "").
func (s *Server) ClearJournal(workspace string) {
	s.t.Helper()
	if err := s.ctl.ClearRequests(context.Background(), workspace); err != nil {
		s.t.Fatalf("apitest: Server.ClearJournal: %v", err)
	}
}

// Reset puts the stub back in its state at start (its own workspaces, an
// empty journal, no script) and forgets the recorded Requests.
func (s *Server) Reset() {
	s.t.Helper()
	if err := s.ctl.Reset(context.Background()); err != nil {
		s.t.Fatalf("apitest: Server.Reset: %v", err)
	}
	s.mu.Lock()
	s.requests = nil
	s.mu.Unlock()
}

// RequireClean registers, with t.Cleanup, a check that fails t if the
// journal holds any contract violation or warning when the test ends
// (before the server closes: cleanups run last-registered first).
func (s *Server) RequireClean(t testing.TB) {
	t.Helper()
	t.Cleanup(func() {
		for _, e := range s.Journal("") {
			if len(e.Violations) > 0 || len(e.Warnings) > 0 {
				t.Errorf("apitest: %s %s?%s (status %d): violations %s; warnings %s", e.Method, e.Path, e.Query.Encode(), e.Status,
					strings.Join(e.Violations, "; "), strings.Join(e.Warnings, "; "))
			}
		}
	})
}
