package control_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/torqapi/integrations/internal/control"
	"github.com/torqapi/integrations/internal/rpcstatus"
)

const integration = `{"id":"d7639fb8-8037-4ce2-80e9-c50bc3345c5a","name":"jira_prod","type_id":"jira"}`

func TestRoutes(t *testing.T) {
	tests := []struct {
		name   string
		method string
		target string
		body   string
		header map[string]string
		setup  func(*fakeBackend)

		status     int
		code       int32    // for errors
		fields     []string // BadRequest fields, in order
		wantBody   string   // exact JSON, when set
		bodyHas    string   // substring, when set
		wantHeader map[string]string
		after      func(t *testing.T, b *fakeBackend)
	}{
		// Workspaces.
		{name: "create with id", method: "POST", target: "/__stub/workspaces", body: `{"id":"ws1","integrations":[` + integration + `]}`,
			status: 201, wantBody: `{"id":"ws1","token":"ws1-token","client_id":"ws1-client","client_secret":"ws1-secret"}`,
			after: func(t *testing.T, b *fakeBackend) {
				if got := string(b.workspaces["ws1"][0]); got != integration {
					t.Errorf("stored %s, want the raw value %s", got, integration)
				}
			}},
		{name: "create, curl -d (form content type)", method: "POST", target: "/__stub/workspaces", body: `{"id":"ws1"}`,
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, status: 201, bodyHas: `"id":"ws1"`},
		{name: "create, id generated", method: "POST", target: "/__stub/workspaces", body: `{}`, status: 201, bodyHas: `"id":"ws-gen-1"`},
		{name: "create, taken id", method: "POST", target: "/__stub/workspaces", body: `{"id":"default"}`, status: 409, code: 6,
			bodyHas: `workspace \"default\" already exists`},
		{name: "create, bad id", method: "POST", target: "/__stub/workspaces", body: `{"id":"no spaces"}`, status: 400, code: 3, fields: []string{"id"}},
		{name: "create, unknown field", method: "POST", target: "/__stub/workspaces", body: `{"id":"ws1","integration":[]}`, status: 400, code: 3, fields: []string{"integration"}},
		{name: "create, integration not an object", method: "POST", target: "/__stub/workspaces", body: `{"integrations":[{}, 7]}`, status: 400, code: 3, fields: []string{"integrations[1]"}},
		{name: "create, backend's field violation", method: "POST", target: "/__stub/workspaces", body: `{"integrations":[{"id":"x"}]}`, status: 400, code: 3,
			fields: []string{"integrations[0].id"}},
		{name: "create, no body", method: "POST", target: "/__stub/workspaces", status: 400, code: 3, fields: []string{"body"}},
		{name: "create, bad JSON", method: "POST", target: "/__stub/workspaces", body: `{"id":`, status: 400, code: 3, fields: []string{"body"}},
		{name: "create, wrong content type", method: "POST", target: "/__stub/workspaces", body: `id: ws1`, header: map[string]string{"Content-Type": "text/yaml"},
			status: 400, code: 3, fields: []string{"Content-Type"}},
		{name: "list workspaces", method: "GET", target: "/__stub/workspaces", status: 200, wantBody: `{"workspaces":[{"id":"default","integrations":1}]}`},
		{name: "get integrations", method: "GET", target: "/__stub/workspaces/default/integrations", status: 200,
			wantBody: `{"integrations":[{"id":"d7639fb8-8037-4ce2-80e9-c50bc3345c5a","name":"jira_prod"}]}`},
		{name: "get integrations, empty is a list", method: "GET", target: "/__stub/workspaces/empty/integrations",
			setup: func(b *fakeBackend) { b.workspaces["empty"] = nil }, status: 200, wantBody: `{"integrations":[]}`},
		{name: "get integrations, unknown workspace", method: "GET", target: "/__stub/workspaces/ws9/integrations", status: 404, code: 5,
			bodyHas: `workspace \"ws9\" not found`},
		{name: "get integrations, bad id", method: "GET", target: "/__stub/workspaces/-x/integrations", status: 400, code: 3, fields: []string{"id"}},
		{name: "replace integrations", method: "PUT", target: "/__stub/workspaces/default/integrations", body: `{"integrations":[` + integration + `,{}]}`,
			status: 200, wantBody: `{"integrations":2}`},
		{name: "replace, missing integrations", method: "PUT", target: "/__stub/workspaces/default/integrations", body: `{}`, status: 400, code: 3,
			fields: []string{"integrations"}},
		{name: "replace, unknown workspace", method: "PUT", target: "/__stub/workspaces/ws9/integrations", body: `{"integrations":[]}`, status: 404, code: 5},
		{name: "replace, backend's internal error is hidden", method: "PUT", target: "/__stub/workspaces/broken/integrations", body: `{"integrations":[]}`,
			setup: func(b *fakeBackend) { b.workspaces["broken"] = nil }, status: 500, code: 13, wantBody: `{"code":13,"message":"Internal error.","details":[]}`},
		{name: "delete workspace", method: "DELETE", target: "/__stub/workspaces/default", status: 204,
			after: func(t *testing.T, b *fakeBackend) {
				if _, ok := b.workspaces["default"]; ok {
					t.Error("workspace still there")
				}
			}},
		{name: "delete unknown workspace", method: "DELETE", target: "/__stub/workspaces/ws9", status: 404, code: 5},

		// Journal.
		{name: "requests", method: "GET", target: "/__stub/requests", status: 200, bodyHas: `"request_id":"r2","warnings":["w"],"violations":[],"script":"s1","step":0}`},
		{name: "requests without script have no step", method: "GET", target: "/__stub/requests?workspace=default", status: 200,
			bodyHas: `"request_id":"r1","warnings":[],"violations":[]}`,
			after: func(t *testing.T, b *fakeBackend) {
				if b.lastWS != "default" || b.lastLimit != 0 {
					t.Errorf("backend got workspace %q, limit %d", b.lastWS, b.lastLimit)
				}
			}},
		{name: "requests, limit", method: "GET", target: "/__stub/requests?limit=1", status: 200,
			after: func(t *testing.T, b *fakeBackend) {
				if b.lastLimit != 1 {
					t.Errorf("limit %d", b.lastLimit)
				}
			}},
		{name: "requests, limit 0", method: "GET", target: "/__stub/requests?limit=0", status: 400, code: 3, fields: []string{"limit"}},
		{name: "requests, limit not a number", method: "GET", target: "/__stub/requests?limit=ten", status: 400, code: 3, fields: []string{"limit"}},
		{name: "requests, bad workspace", method: "GET", target: "/__stub/requests?workspace=a%20b", status: 400, code: 3, fields: []string{"workspace"}},
		{name: "requests, unknown parameter", method: "GET", target: "/__stub/requests?workspce=ws1", status: 400, code: 3, fields: []string{"workspce"}},
		{name: "requests, repeated parameter", method: "GET", target: "/__stub/requests?limit=1&limit=2", status: 400, code: 3, fields: []string{"limit"}},
		{name: "requests, malformed query", method: "GET", target: "/__stub/requests?limit=%zz", status: 400, code: 3, fields: []string{"query"}},
		{name: "clear one workspace", method: "DELETE", target: "/__stub/requests?workspace=ws1", status: 204,
			after: func(t *testing.T, b *fakeBackend) {
				if got := b.journal.List("", 0); len(got) != 1 || got[0].Workspace != "default" {
					t.Errorf("journal after clear: %+v", got)
				}
			}},
		{name: "clear all", method: "DELETE", target: "/__stub/requests", status: 204,
			after: func(t *testing.T, b *fakeBackend) {
				if got := b.journal.List("", 0); len(got) != 0 {
					t.Errorf("journal after clear: %+v", got)
				}
			}},
		{name: "clear, typo in parameter clears nothing", method: "DELETE", target: "/__stub/requests?workspce=ws1", status: 400, code: 3, fields: []string{"workspce"},
			after: func(t *testing.T, b *fakeBackend) {
				if got := b.journal.List("", 0); len(got) != 2 {
					t.Errorf("journal changed: %+v", got)
				}
			}},

		// Reset.
		{name: "reset", method: "POST", target: "/__stub/reset", status: 204,
			after: func(t *testing.T, b *fakeBackend) {
				if b.resets != 1 {
					t.Errorf("%d resets", b.resets)
				}
			}},
		{name: "reset, backend error", method: "POST", target: "/__stub/reset", setup: func(b *fakeBackend) { b.failReset = errors.New("boom") }, status: 500, code: 13},
		{name: "reset, typed backend error", method: "POST", target: "/__stub/reset",
			setup: func(b *fakeBackend) { b.failReset = control.Invalid("fixtures", "broken") }, status: 400, code: 3, fields: []string{"fixtures"}},

		{name: "reset, rpcstatus error passes through", method: "POST", target: "/__stub/reset",
			setup: func(b *fakeBackend) { b.failReset = rpcstatus.Errorf(rpcstatus.FailedPrecondition, "fixtures changed") }, status: 400, code: 9,
			bodyHas: "fixtures changed"},
		{name: "reset takes no parameter", method: "POST", target: "/__stub/reset?all=1", status: 400, code: 3, fields: []string{"all"}},

		// Scripts.
		{name: "create script", method: "POST", target: "/__stub/scripts",
			body:   `{"workspace":"default","token":"t","query":{"type_id":"jira"},"steps":[{"status":503},{"status":429,"retry_after":"2s"},{"fault":"reset"},{"pass":true},{"delay":"500ms"},{"status":502,"body":"html","delay":"1s"}],"repeat":true}`,
			status: 201, wantBody: `{"id":"s1"}`,
			after: func(t *testing.T, b *fakeBackend) {
				want := control.Script{Workspace: "default", Token: "t", Query: map[string]string{"type_id": "jira"}, Repeat: true, Steps: []control.Step{
					{Kind: control.StepStatus, Status: 503},
					{Kind: control.StepStatus, Status: 429, RetryAfter: 2 * time.Second},
					{Kind: control.StepFault, Fault: control.FaultReset},
					{Kind: control.StepPass},
					{Kind: control.StepDelay, Delay: 500 * time.Millisecond},
					{Kind: control.StepStatus, Status: 502, HTMLBody: true, Delay: time.Second},
				}}
				if len(b.scripts) != 1 || !reflect.DeepEqual(b.scripts[0].Script, want) {
					t.Errorf("stored %+v\nwant %+v", b.scripts, want)
				}
			}},
		{name: "create script, status outside the table", method: "POST", target: "/__stub/scripts",
			body: `{"workspace":"default","steps":[{"status":503},{"status":418}]}`, status: 400, code: 3, fields: []string{"steps[1].status"}},
		{name: "create script, bad delay and misplaced retry_after", method: "POST", target: "/__stub/scripts",
			body: `{"workspace":"default","steps":[{"status":500,"retry_after":"1s"},{"delay":"soon"}]}`, status: 400, code: 3,
			fields: []string{"steps[0].retry_after", "steps[1].delay"},
			after: func(t *testing.T, b *fakeBackend) {
				if len(b.scripts) != 0 {
					t.Error("a bad script was stored")
				}
			}},
		{name: "create script, html without 502", method: "POST", target: "/__stub/scripts",
			body: `{"workspace":"default","steps":[{"status":503,"body":"html"}]}`, status: 400, code: 3, fields: []string{"steps[0].body"}},
		{name: "create script, unknown step field", method: "POST", target: "/__stub/scripts",
			body: `{"workspace":"default","steps":[{"pass":true},{"falut":"reset"}]}`, status: 400, code: 3, fields: []string{"steps[1].falut"}},
		{name: "create script, unknown fault", method: "POST", target: "/__stub/scripts",
			body: `{"workspace":"default","steps":[{"fault":"explode"}]}`, status: 400, code: 3, fields: []string{"steps[0].fault"}},
		{name: "create script, no steps", method: "POST", target: "/__stub/scripts", body: `{"workspace":"default","steps":[]}`, status: 400, code: 3, fields: []string{"steps"}},
		{name: "create script, missing workspace", method: "POST", target: "/__stub/scripts", body: `{"steps":[{"pass":true}]}`, status: 400, code: 3, fields: []string{"workspace"}},
		{name: "create script, empty step", method: "POST", target: "/__stub/scripts", body: `{"workspace":"default","steps":[{}]}`, status: 400, code: 3, fields: []string{"steps[0]"}},
		{name: "create script, unknown workspace", method: "POST", target: "/__stub/scripts", body: `{"workspace":"ws9","steps":[{"pass":true}]}`, status: 404, code: 5},
		{name: "list scripts", method: "GET", target: "/__stub/scripts",
			setup: func(b *fakeBackend) {
				b.scripts = []control.ScriptState{{ID: "s7", Script: control.Script{Workspace: "default", Steps: []control.Step{
					{Kind: control.StepStatus, Status: 429, RetryAfter: 1500 * time.Millisecond}, {Kind: control.StepDelay, Delay: 90 * time.Second}, {Kind: control.StepPass}}}}}
			},
			status: 200, wantBody: `{"scripts":[{"id":"s7","workspace":"default","steps_left":[{"status":429,"retry_after":"1.5s"},{"delay":"1m30s"},{"pass":true}],"repeat":false}]}`},
		{name: "list scripts, none", method: "GET", target: "/__stub/scripts", status: 200, wantBody: `{"scripts":[]}`},
		{name: "delete script", method: "DELETE", target: "/__stub/scripts/s7",
			setup: func(b *fakeBackend) { b.scripts = []control.ScriptState{{ID: "s7"}} }, status: 204,
			after: func(t *testing.T, b *fakeBackend) {
				if len(b.scripts) != 0 {
					t.Error("script still there")
				}
			}},
		{name: "delete unknown script", method: "DELETE", target: "/__stub/scripts/s9", status: 404, code: 5, bodyHas: `script \"s9\" not found`},
		{name: "delete all scripts", method: "DELETE", target: "/__stub/scripts",
			setup: func(b *fakeBackend) { b.scripts = []control.ScriptState{{ID: "s7"}, {ID: "s8"}} }, status: 204,
			after: func(t *testing.T, b *fakeBackend) {
				if len(b.scripts) != 0 {
					t.Error("scripts still there")
				}
			}},

		// The contract, routing.
		{name: "contract", method: "GET", target: "/__stub/openapi.yaml", status: 200, bodyHas: "openapi: 3.0.3",
			wantHeader: map[string]string{"Content-Type": "application/yaml"}},
		{name: "unknown path", method: "GET", target: "/__stub/nothing", status: 404, code: 5, wantBody: `{"code":5,"message":"Not Found","details":[]}`},
		{name: "the prefix alone", method: "GET", target: "/__stub/", status: 404, code: 5},
		{name: "trailing slash", method: "GET", target: "/__stub/workspaces/", status: 404, code: 5},
		{name: "outside the prefix", method: "GET", target: "/v1alpha/integrations", status: 404, code: 5},
		{name: "wrong method", method: "PATCH", target: "/__stub/workspaces", status: 405, code: 12, wantHeader: map[string]string{"Allow": "GET, POST"}},
		{name: "wrong method with a path parameter", method: "GET", target: "/__stub/workspaces/ws1", status: 405, code: 12, wantHeader: map[string]string{"Allow": "DELETE"}},
		{name: "HEAD is not GET", method: "HEAD", target: "/__stub/openapi.yaml", status: 405, code: 12, wantHeader: map[string]string{"Allow": "GET"}},
		{name: "wrong method on scripts", method: "PUT", target: "/__stub/scripts", status: 405, code: 12, wantHeader: map[string]string{"Allow": "GET, POST, DELETE"}},
	}
	checker := newContractChecker(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newFakeBackend()
			if tt.setup != nil {
				tt.setup(b)
			}
			h := newHandler(t, b, control.Options{})
			rec, req := do(h, tt.method, tt.target, tt.body, tt.header)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			checker.check(t, req, rec)
			if tt.wantBody != "" {
				if got := strings.TrimSpace(rec.Body.String()); got != tt.wantBody {
					t.Errorf("body = %s\nwant   %s", got, tt.wantBody)
				}
			}
			if tt.bodyHas != "" && !strings.Contains(rec.Body.String(), tt.bodyHas) {
				t.Errorf("body %s lacks %s", rec.Body, tt.bodyHas)
			}
			for k, v := range tt.wantHeader {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if rec.Code >= 400 {
				var st status
				if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
					t.Fatalf("error body: %v", err)
				}
				if st.Code != tt.code {
					t.Errorf("code = %d, want %d (%s)", st.Code, tt.code, st.Message)
				}
				if tt.fields != nil && !reflect.DeepEqual(st.fields(), tt.fields) {
					t.Errorf("fields = %q, want %q (%s)", st.fields(), tt.fields, rec.Body)
				}
				if tt.code == 3 && len(st.fields()) == 0 {
					t.Errorf("INVALID_ARGUMENT without a field violation: %s", rec.Body)
				}
			}
			if tt.status == 204 && rec.Body.Len() != 0 {
				t.Errorf("204 with a body: %s", rec.Body)
			}
			if tt.after != nil {
				tt.after(t, b)
			}
		})
	}
}

// TestEveryOperationRouted walks control.yaml and sends each operation a
// request: none may be answered 404 or 405, so no operation of the contract
// lacks a route.
func TestEveryOperationRouted(t *testing.T) {
	doc, err := control.Load()
	if err != nil {
		t.Fatal(err)
	}
	h := newHandler(t, newFakeBackend(), control.Options{})
	n := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			n++
			target := strings.NewReplacer("{id}", "default").Replace(path)
			body := ""
			if op.RequestBody != nil {
				body = `{}`
			}
			rec, _ := do(h, method, target, body, nil)
			if rec.Code == http.StatusNotFound && bytes.Contains(rec.Body.Bytes(), []byte(`"Not Found"`)) || rec.Code == http.StatusMethodNotAllowed {
				t.Errorf("%s %s (%s) is not routed: %d %s", method, path, op.OperationID, rec.Code, rec.Body)
			}
		}
	}
	if n < 13 {
		t.Errorf("only %d operations in control.yaml", n)
	}
}

func TestBodyBounded(t *testing.T) {
	h := newHandler(t, newFakeBackend(), control.Options{MaxBodyBytes: 64})
	rec, _ := do(h, "PUT", "/__stub/workspaces/default/integrations", `{"integrations":[`+integration+`]}`, nil)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"field":"body"`) || !strings.Contains(rec.Body.String(), "larger than 64 bytes") {
		t.Errorf("got %d %s", rec.Code, rec.Body)
	}
}

func TestInternalErrorLoggedNotSent(t *testing.T) {
	var logs bytes.Buffer
	b := newFakeBackend()
	b.workspaces["broken"] = nil
	h := newHandler(t, b, control.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	rec, _ := do(h, "PUT", "/__stub/workspaces/broken/integrations", `{"integrations":[]}`, nil)
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "disk") {
		t.Errorf("got %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "disk on fire") {
		t.Errorf("the error was not logged: %s", logs.String())
	}
}

func TestNewHandlerNeedsBackend(t *testing.T) {
	if _, err := control.NewHandler(nil, control.Options{}); err == nil {
		t.Error("NewHandler(nil) succeeded")
	}
}

// TestGeneratedClient drives the handler with the generated client, as a Go
// test suite would.
func TestGeneratedClient(t *testing.T) {
	srv := newTestServer(t, newFakeBackend())
	c := newClient(t, srv)
	ctx := context.Background()
	created, err := c.CreateWorkspaceWithResponse(ctx, gencontrolCreate("ws1"))
	if err != nil || created.JSON201 == nil || created.JSON201.Token != "ws1-token" {
		t.Fatalf("create: %v %+v", err, created)
	}
	spec, err := c.GetControlContractWithResponse(ctx)
	if err != nil || spec.StatusCode() != 200 || !bytes.Equal(spec.Body, control.Contract) {
		t.Fatalf("contract: %v %d", err, spec.StatusCode())
	}
}
