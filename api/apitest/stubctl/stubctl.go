// Package stubctl is a Go client of the stub's control API (/__stub/, see
// docs/control-api.md): for tests that run a torq-stub binary, or any
// stub, and steer it over HTTP. It wraps the generated client
// (generated/control) with the base URL, one method per route and typed
// errors, so that a test reads `c.CreateScript(ctx, s)` and gets an
// *Error with the field violations when the stub refuses it.
package stubctl

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/torqapi/integrations/generated/control"
)

// The control API's types, re-exported so that importers need not import
// the generated package.
type (
	// Credentials is a new workspace's id, static token and OAuth2 client.
	Credentials = control.Credentials
	// Script is a script to add: what it matches and its steps.
	Script = control.Script
	// Step is one scripted answer.
	Step = control.Step
	// StepStatus is a step's HTTP status.
	StepStatus = control.StepStatus
	// StepFault is a step's connection fault.
	StepFault = control.StepFault
	// StepBody is a step's body kind ("html").
	StepBody = control.StepBody
	// ScriptState is a script as it stands, with the steps it has left.
	ScriptState = control.ScriptState
	// RequestEntry is one entry of the journal.
	RequestEntry = control.RequestEntry
	// WorkspaceSummary is a workspace and how many integrations it holds.
	WorkspaceSummary = control.WorkspaceSummary
)

// Client talks to one stub's control API.
type Client struct {
	c *control.ClientWithResponses
}

// Option configures a Client.
type Option func(*options)

type options struct {
	hc    *http.Client
	token string
}

// WithHTTPClient sends the requests with hc instead of http.DefaultClient.
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.hc = hc } }

// WithControlToken sends the stub's control token (its --control-token)
// with every request, for a stub that is not on loopback.
func WithControlToken(token string) Option { return func(o *options) { o.token = token } }

// New returns a client of the control API of the stub at baseURL, its root
// ("http://127.0.0.1:8080", without "/__stub").
func New(baseURL string, opts ...Option) (*Client, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	copts := []control.ClientOption{}
	if o.hc != nil {
		copts = append(copts, control.WithHTTPClient(o.hc))
	}
	if o.token != "" {
		tok := o.token
		copts = append(copts, control.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+tok)
			return nil
		}))
	}
	c, err := control.NewClientWithResponses(strings.TrimSuffix(baseURL, "/"), copts...)
	if err != nil {
		return nil, fmt.Errorf("stubctl: %w", err)
	}
	return &Client{c: c}, nil
}

// FieldViolation is one field of a refused request and why (from a
// google.rpc.BadRequest).
type FieldViolation struct {
	Field, Description string
}

// Error is the control API's refusal: its google.rpc.Status.
type Error struct {
	// HTTPStatus is the answer's HTTP status (400, 404, 409...).
	HTTPStatus int
	// Code is the gRPC code (3 INVALID_ARGUMENT, 5 NOT_FOUND...).
	Code int32
	// Message is the Status's message.
	Message string
	// Violations are the fields a google.rpc.BadRequest named.
	Violations []FieldViolation
}

func (e *Error) Error() string {
	return fmt.Sprintf("stubctl: HTTP %d, code %d: %s", e.HTTPStatus, e.Code, e.Message)
}

// check turns an answer that is not the expected status into an *Error.
func check(op string, err error, r response, want int) error {
	if err != nil {
		return fmt.Errorf("stubctl: %s: %w", op, err)
	}
	status, body := r.StatusCode(), r.GetBody()
	if status == want {
		return nil
	}
	var st struct {
		Code    int32  `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Type            string           `json:"@type"`
			FieldViolations []FieldViolation `json:"fieldViolations"`
		} `json:"details"`
	}
	if json.Unmarshal(body, &st) != nil || (st.Code == 0 && st.Message == "") {
		// Not a Status: the body is not quoted, since an unexpected answer
		// may be one that carries credentials (a workspace's).
		return &Error{HTTPStatus: status, Message: fmt.Sprintf("%s: unexpected answer (HTTP %d, %d bytes, not a google.rpc.Status)", op, status, len(body))}
	}
	e := &Error{HTTPStatus: status, Code: st.Code, Message: st.Message}
	for _, d := range st.Details {
		if strings.HasSuffix(d.Type, "google.rpc.BadRequest") {
			e.Violations = append(e.Violations, d.FieldViolations...)
		}
	}
	return e
}

// CreateWorkspace creates a workspace (id "" lets the stub choose one)
// holding integrations, each a JSON Integration of Torq's contract.
func (c *Client) CreateWorkspace(ctx context.Context, id string, integrations ...json.RawMessage) (Credentials, error) {
	r, err := c.c.CreateWorkspaceWithResponse(ctx, control.CreateWorkspaceRequest{ID: id, Integrations: integrations})
	if err := check("CreateWorkspace", err, r, http.StatusCreated); err != nil {
		return Credentials{}, err
	}
	return *r.JSON201, nil
}

// Workspaces lists the workspaces, in order of id.
func (c *Client) Workspaces(ctx context.Context) ([]WorkspaceSummary, error) {
	r, err := c.c.ListWorkspacesWithResponse(ctx)
	if err := check("Workspaces", err, r, http.StatusOK); err != nil {
		return nil, err
	}
	return r.JSON200.Workspaces, nil
}

// Integrations returns a workspace's integrations, as stored.
func (c *Client) Integrations(ctx context.Context, id string) ([]json.RawMessage, error) {
	r, err := c.c.GetIntegrationsWithResponse(ctx, id)
	if err := check("Integrations", err, r, http.StatusOK); err != nil {
		return nil, err
	}
	return r.JSON200.Integrations, nil
}

// ReplaceIntegrations replaces a workspace's integrations atomically and
// returns their new count.
func (c *Client) ReplaceIntegrations(ctx context.Context, id string, integrations ...json.RawMessage) (int, error) {
	if integrations == nil {
		integrations = []json.RawMessage{} // the contract requires the array
	}
	r, err := c.c.ReplaceIntegrationsWithResponse(ctx, id, control.IntegrationList{Integrations: integrations})
	if err := check("ReplaceIntegrations", err, r, http.StatusOK); err != nil {
		return 0, err
	}
	return int(r.JSON200.Integrations), nil
}

// DeleteWorkspace deletes a workspace and its scripts.
func (c *Client) DeleteWorkspace(ctx context.Context, id string) error {
	r, err := c.c.DeleteWorkspaceWithResponse(ctx, id)
	return check("DeleteWorkspace", err, r, http.StatusNoContent)
}

// CreateScript adds a script and returns its id.
func (c *Client) CreateScript(ctx context.Context, s Script) (string, error) {
	r, err := c.c.CreateScriptWithResponse(ctx, s)
	if err := check("CreateScript", err, r, http.StatusCreated); err != nil {
		return "", err
	}
	return r.JSON201.ID, nil
}

// Scripts lists the scripts with the steps each has left, in the order
// they were added.
func (c *Client) Scripts(ctx context.Context) ([]ScriptState, error) {
	r, err := c.c.ListScriptsWithResponse(ctx)
	if err := check("Scripts", err, r, http.StatusOK); err != nil {
		return nil, err
	}
	return r.JSON200.Scripts, nil
}

// DeleteScript removes one script.
func (c *Client) DeleteScript(ctx context.Context, id string) error {
	r, err := c.c.DeleteScriptWithResponse(ctx, id)
	return check("DeleteScript", err, r, http.StatusNoContent)
}

// DeleteScripts removes every script.
func (c *Client) DeleteScripts(ctx context.Context) error {
	r, err := c.c.DeleteScriptsWithResponse(ctx)
	return check("DeleteScripts", err, r, http.StatusNoContent)
}

// Requests returns the journal, oldest first: one workspace's entries
// (every entry for ""), the newest limit of them (all for 0).
func (c *Client) Requests(ctx context.Context, workspace string, limit int) ([]RequestEntry, error) {
	r, err := c.c.ListRequestsWithResponse(ctx, listParams(workspace, limit))
	if err := check("Requests", err, r, http.StatusOK); err != nil {
		return nil, err
	}
	return r.JSON200.Requests, nil
}

// ClearRequests clears one workspace's entries of the journal (every
// entry for "").
func (c *Client) ClearRequests(ctx context.Context, workspace string) error {
	r, err := c.c.ClearRequestsWithResponse(ctx, &control.ClearRequestsParams{Workspace: optional(workspace)})
	return check("ClearRequests", err, r, http.StatusNoContent)
}

// optional is the parameter value for s, absent when s is "".
func optional(s string) *control.WorkspaceQuery {
	if s == "" {
		return nil
	}
	return &s
}

func listParams(workspace string, limit int) *control.ListRequestsParams {
	p := &control.ListRequestsParams{Workspace: optional(workspace)}
	if limit > 0 {
		n := int32(limit)
		p.Limit = &n
	}
	return p
}

// Reset puts the stub back in its state at start: its own workspaces, an
// empty journal, no script.
func (c *Client) Reset(ctx context.Context) error {
	r, err := c.c.ResetWithResponse(ctx)
	return check("Reset", err, r, http.StatusNoContent)
}

// response is what every generated response has.
type response interface {
	StatusCode() int
	GetBody() []byte
}
