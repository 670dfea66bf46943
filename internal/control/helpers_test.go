package control_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	gencontrol "github.com/torqapi/integrations/generated/control"
	"github.com/torqapi/integrations/internal/control"
	"github.com/torqapi/integrations/internal/journal"
)

// fakeBackend is an in-memory Backend: enough behaviour for the handler's
// tests to see their arguments arrive and the backend's answers and errors
// go out.
type fakeBackend struct {
	mu         sync.Mutex
	workspaces map[string][]json.RawMessage
	scripts    []control.ScriptState
	journal    *journal.Journal
	nextID     int
	resets     int
	failReset  error
	lastLimit  int
	lastWS     string
}

func newFakeBackend() *fakeBackend {
	b := &fakeBackend{workspaces: map[string][]json.RawMessage{"default": {json.RawMessage(`{"id":"d7639fb8-8037-4ce2-80e9-c50bc3345c5a","name":"jira_prod"}`)}}, journal: journal.New(10)}
	b.journal.Record(journal.Entry{Method: "GET", Path: "/v1alpha/integrations", Status: 200, Workspace: "default", RequestID: "r1"})
	b.journal.Record(journal.Entry{Method: "GET", Path: "/v1alpha/integrations", Query: "type_id=jira", Status: 503, Workspace: "ws1", RequestID: "r2",
		Warnings: []string{"w"}, Script: "s1", Step: 0})
	return b
}

func (b *fakeBackend) CreateWorkspace(_ context.Context, id string, integrations []json.RawMessage) (control.Credentials, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if id == "" {
		b.nextID++
		id = fmt.Sprint("ws-gen-", b.nextID)
	}
	if _, ok := b.workspaces[id]; ok {
		return control.Credentials{}, control.AlreadyExists("workspace", id)
	}
	for i, raw := range integrations {
		var v map[string]any
		if err := json.Unmarshal(raw, &v); err != nil {
			return control.Credentials{}, control.Invalid(fmt.Sprintf("integrations[%d]", i), "not an object")
		}
		if id, ok := v["id"]; ok {
			if s, _ := id.(string); len(s) != 36 {
				return control.Credentials{}, control.Invalid(fmt.Sprintf("integrations[%d].id", i), "must be a UUID")
			}
		}
	}
	b.workspaces[id] = integrations
	return control.Credentials{ID: id, Token: id + "-token", ClientID: id + "-client", ClientSecret: id + "-secret"}, nil
}

func (b *fakeBackend) Workspaces(context.Context) []control.WorkspaceSummary {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []control.WorkspaceSummary
	for id, list := range b.workspaces {
		out = append(out, control.WorkspaceSummary{ID: id, Integrations: len(list)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (b *fakeBackend) Integrations(_ context.Context, id string) ([]json.RawMessage, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	list, ok := b.workspaces[id]
	if !ok {
		return nil, control.NotFound("workspace", id)
	}
	return list, nil
}

func (b *fakeBackend) ReplaceIntegrations(_ context.Context, id string, integrations []json.RawMessage) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.workspaces[id]; !ok {
		return 0, control.NotFound("workspace", id)
	}
	if id == "broken" {
		return 0, errors.New("disk on fire")
	}
	b.workspaces[id] = integrations
	return len(integrations), nil
}

func (b *fakeBackend) DeleteWorkspace(_ context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.workspaces[id]; !ok {
		return control.NotFound("workspace", id)
	}
	delete(b.workspaces, id)
	return nil
}

func (b *fakeBackend) Requests(_ context.Context, workspace string, limit int) []journal.Entry {
	b.mu.Lock()
	b.lastWS, b.lastLimit = workspace, limit
	b.mu.Unlock()
	return b.journal.List(workspace, limit)
}

func (b *fakeBackend) ClearRequests(_ context.Context, workspace string) {
	b.mu.Lock()
	b.lastWS = workspace
	b.mu.Unlock()
	b.journal.Clear(workspace)
}

func (b *fakeBackend) Reset(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.resets++
	return b.failReset
}

func (b *fakeBackend) CreateScript(_ context.Context, s control.Script) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.workspaces[s.Workspace]; !ok {
		return "", control.NotFound("workspace", s.Workspace)
	}
	b.nextID++
	id := fmt.Sprint("s", b.nextID)
	b.scripts = append(b.scripts, control.ScriptState{ID: id, Script: s})
	return id, nil
}

func (b *fakeBackend) Scripts(context.Context) []control.ScriptState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]control.ScriptState(nil), b.scripts...)
}

func (b *fakeBackend) DeleteScript(_ context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, s := range b.scripts {
		if s.ID == id {
			b.scripts = append(b.scripts[:i], b.scripts[i+1:]...)
			return nil
		}
	}
	return control.NotFound("script", id)
}

func (b *fakeBackend) DeleteScripts(context.Context) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.scripts = nil
}

// contractChecker validates answers against control.yaml, independently of
// the handler's own router.
type contractChecker struct {
	doc    *openapi3.T
	router routers.Router
}

func newContractChecker(t testing.TB) *contractChecker {
	t.Helper()
	doc, err := control.Load()
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &contractChecker{doc: doc, router: router}
}

// check validates the response rec gave to req against the operation the
// contract routes req to; a request the contract does not route (404, 405)
// must have been answered with a google.rpc.Status.
func (c *contractChecker) check(t testing.TB, req *http.Request, rec *httptest.ResponseRecorder) {
	t.Helper()
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.checkStatus(t, rec.Body.Bytes())
		return
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Options:                opts,
	}
	input.SetBodyBytes(rec.Body.Bytes())
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		t.Errorf("%s %s: %d response breaks control.yaml: %v\nbody: %s", req.Method, req.URL, rec.Code, err, rec.Body)
	}
	if rec.Code >= 400 {
		c.checkStatus(t, rec.Body.Bytes())
	}
}

func (c *contractChecker) checkStatus(t testing.TB, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("error body is not JSON: %s", body)
		return
	}
	if err := c.doc.Components.Schemas["Status"].Value.VisitJSON(v); err != nil {
		t.Errorf("error body is not a Status: %v\n%s", err, body)
	}
}

// status is a decoded google.rpc.Status with its BadRequest fields.
type status struct {
	Code    int32  `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Type            string `json:"@type"`
		FieldViolations []struct {
			Field       string `json:"field"`
			Description string `json:"description"`
		} `json:"fieldViolations"`
	} `json:"details"`
}

func (s status) fields() []string {
	var out []string
	for _, d := range s.Details {
		for _, fv := range d.FieldViolations {
			out = append(out, fv.Field)
		}
	}
	return out
}

func newHandler(t testing.TB, b control.Backend, opts control.Options) http.Handler {
	t.Helper()
	h, err := control.NewHandler(b, opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// do sends one request through h and returns the recorder, the request
// (re-bodied, for validating the response) and the body decoded as a
// Status when it is an error.
func do(h http.Handler, method, target, body string, header map[string]string) (*httptest.ResponseRecorder, *http.Request) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	check := httptest.NewRequest(method, target, bytes.NewReader([]byte(body)))
	return rec, check
}

func newTestServer(t *testing.T, b control.Backend) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(newHandler(t, b, control.Options{}))
	t.Cleanup(srv.Close)
	return srv
}

func newClient(t *testing.T, srv *httptest.Server) *gencontrol.ClientWithResponses {
	t.Helper()
	c, err := gencontrol.NewClientWithResponses(srv.URL, gencontrol.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func gencontrolCreate(id string) gencontrol.CreateWorkspaceRequest {
	return gencontrol.CreateWorkspaceRequest{ID: id}
}
