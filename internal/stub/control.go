package stub

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/torqapi/integrations/internal/control"
	"github.com/torqapi/integrations/internal/fixtures"
	"github.com/torqapi/integrations/internal/journal"
	"github.com/torqapi/integrations/internal/rpcstatus"
	"github.com/torqapi/integrations/internal/script"
	"github.com/torqapi/integrations/internal/workspace"
)

// ControlHandler is the control API (/__stub/): workspaces, data, the
// journal and scripts, steered at run time by tests in any language, with
// its access rule (ControlToken, loopback, ControlOpen). The stub's own
// handler serves it too unless Config.SeparateControl.
func (s *Stub) ControlHandler() http.Handler { return s.control }

func (s *Stub) controlHandler() (http.Handler, error) {
	h, err := control.NewHandler(backend{s}, control.Options{Logger: s.log})
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := s.controlAccess(r); e != nil {
			rpcstatus.Write(w, e)
			return
		}
		h.ServeHTTP(w, r)
	}), nil
}

// controlAccess is the control API's access rule: with a control token,
// every request carries it; without one, only loopback clients, unless the
// API was opened explicitly.
func (s *Stub) controlAccess(r *http.Request) *rpcstatus.Error {
	if s.cfg.ControlToken != "" {
		got := sha256.Sum256([]byte(bearerOf(r)))
		if subtle.ConstantTimeCompare(got[:], s.controlDigest[:]) != 1 {
			return &rpcstatus.Error{Code: rpcstatus.Unauthenticated, Message: "The control API needs its token: Authorization: Bearer <--control-token>."}
		}
		return nil
	}
	if s.cfg.ControlOpen || isLoopback(r.RemoteAddr) {
		return nil
	}
	return &rpcstatus.Error{Code: rpcstatus.PermissionDenied, Message: "The control API answers loopback clients only; start the stub with --control-token (or --control-open) to reach it from elsewhere."}
}

func bearerOf(r *http.Request) string {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimLeft(token, " ")
}

// isLoopback reports whether a request's remote address is on this
// machine. httptest's recorder leaves it "192.0.2.1:1234", which is not.
func isLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// backend is the control API's view of the stub.
type backend struct{ s *Stub }

var _ control.Backend = backend{}

// checkItems judges the integrations of a control request by a fixture
// file's rules; a bad one is INVALID_ARGUMENT naming integrations[i].field.
func checkItems(raw []json.RawMessage) ([]fixtures.Item, error) {
	values := make([]any, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r, &values[i]); err != nil {
			return nil, control.Invalid("integrations["+strconv.Itoa(i)+"]", "not JSON: "+err.Error())
		}
	}
	items, err := fixtures.CheckItems(values)
	if err != nil {
		return nil, controlError(err)
	}
	return items, nil
}

// controlError maps the store's and the fixtures' errors to the control
// API's typed errors; anything else stays as it is (500, logged).
func controlError(err error) error {
	var (
		fe *fixtures.Error
		nf *workspace.NotFoundError
		ex *workspace.ExistsError
		se *script.Error
	)
	switch {
	case errors.As(err, &nf):
		return control.NotFound("workspace", nf.ID)
	case errors.As(err, &ex):
		return control.AlreadyExists("workspace", ex.ID)
	case errors.As(err, &fe):
		var vs []control.FieldViolation
		for _, p := range fe.Problems {
			vs = append(vs, control.FieldViolation{Field: p.Path(), Description: p.Reason})
		}
		if len(vs) == 0 {
			return control.Invalid("integrations", fe.Error())
		}
		return control.InvalidFields(vs...)
	case errors.As(err, &se):
		var vs []control.FieldViolation
		for _, v := range se.Violations {
			vs = append(vs, control.FieldViolation{Field: v.Field, Description: v.Description})
		}
		return control.InvalidFields(vs...)
	}
	return err
}

func (b backend) CreateWorkspace(_ context.Context, id string, raw []json.RawMessage) (control.Credentials, error) {
	items, err := checkItems(raw)
	if err != nil {
		return control.Credentials{}, err
	}
	c, err := b.s.store.Load().Create(workspace.Spec{ID: id, Integrations: items})
	if err != nil {
		return control.Credentials{}, controlError(err)
	}
	return control.Credentials{ID: c.ID, Token: c.Token, ClientID: c.Client.ID, ClientSecret: c.Client.Secret}, nil
}

func (b backend) Workspaces(context.Context) []control.WorkspaceSummary {
	list := b.s.store.Load().List()
	out := make([]control.WorkspaceSummary, len(list))
	for i, w := range list {
		out[i] = control.WorkspaceSummary{ID: w.ID, Integrations: w.Integrations}
	}
	slices.SortFunc(out, func(a, b control.WorkspaceSummary) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (b backend) Integrations(_ context.Context, id string) ([]json.RawMessage, error) {
	ws := b.s.store.Load().Get(id)
	if ws == nil {
		return nil, control.NotFound("workspace", id)
	}
	items := ws.Integrations()
	out := make([]json.RawMessage, len(items))
	for i, it := range items {
		out[i] = json.RawMessage(it)
	}
	return out, nil
}

func (b backend) ReplaceIntegrations(_ context.Context, id string, raw []json.RawMessage) (int, error) {
	store := b.s.store.Load()
	if store.Get(id) == nil {
		return 0, control.NotFound("workspace", id)
	}
	items, err := checkItems(raw)
	if err != nil {
		return 0, err
	}
	if err := store.Replace(id, items); err != nil {
		return 0, controlError(err)
	}
	return len(items), nil
}

func (b backend) DeleteWorkspace(_ context.Context, id string) error {
	if err := b.s.store.Load().Delete(id); err != nil {
		return controlError(err)
	}
	b.s.scripts.DeleteWorkspace(id)
	return nil
}

func (b backend) Requests(_ context.Context, ws string, limit int) []journal.Entry {
	return b.s.journal.List(ws, limit)
}

func (b backend) ClearRequests(_ context.Context, ws string) { b.s.journal.Clear(ws) }

func (b backend) Reset(context.Context) error {
	b.s.Reset()
	return nil
}

func (b backend) CreateScript(_ context.Context, cs control.Script) (string, error) {
	if b.s.store.Load().Get(cs.Workspace) == nil {
		return "", control.NotFound("workspace", cs.Workspace)
	}
	sc := script.Script{Match: script.Match{Workspace: cs.Workspace, Token: cs.Token, Query: cs.Query}, Repeat: cs.Repeat}
	for _, st := range cs.Steps {
		sc.Steps = append(sc.Steps, fromControl(st))
	}
	id, err := b.s.scripts.Add(sc)
	if err != nil {
		return "", controlError(err)
	}
	return id, nil
}

func fromControl(st control.Step) script.Step {
	out := script.Step{Delay: st.Delay}
	switch st.Kind {
	case control.StepStatus:
		out.Status, out.Message, out.RetryAfter = st.Status, st.Message, st.RetryAfter
		if st.HTMLBody {
			out.Body = "html"
		}
	case control.StepFault:
		out.Fault = st.Fault
	case control.StepPass:
		out.Pass = true
	}
	return out
}

func toControl(st script.Step) control.Step {
	out := control.Step{Delay: st.Delay}
	switch {
	case st.Status != 0:
		out.Kind, out.Status, out.Message, out.RetryAfter, out.HTMLBody = control.StepStatus, st.Status, st.Message, st.RetryAfter, st.Body == "html"
	case st.Fault != "":
		out.Kind, out.Fault = control.StepFault, st.Fault
	case st.Pass:
		out.Kind = control.StepPass
	default:
		out.Kind = control.StepDelay
	}
	return out
}

func (b backend) Scripts(context.Context) []control.ScriptState {
	list := b.s.scripts.List()
	out := make([]control.ScriptState, len(list))
	for i, st := range list {
		cs := control.Script{Workspace: st.Workspace, Token: st.Token, Query: st.Query, Repeat: st.Repeat}
		for _, step := range st.StepsLeft {
			cs.Steps = append(cs.Steps, toControl(step))
		}
		out[i] = control.ScriptState{ID: st.ID, Script: cs}
	}
	return out
}

func (b backend) DeleteScript(_ context.Context, id string) error {
	if !b.s.scripts.Delete(id) {
		return control.NotFound("script", id)
	}
	return nil
}

func (b backend) DeleteScripts(context.Context) { b.s.scripts.Clear() }

// Reset puts the stub back in its state at start: the workspaces from
// Config (and its fixture file as last loaded), an empty journal, no
// scripts.
func (s *Stub) Reset() {
	s.store.Load().Reset()
	s.journal.Clear("")
	s.scripts.Clear()
}
