package stubctl_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/torqapi/integrations/api/apitest/stubctl"
	"github.com/torqapi/integrations/internal/stub"
)

// newStub runs the stub's handler on loopback, where the control API
// answers without a token, and returns a client of it.
func newStub(t *testing.T, cfg stub.Config, opts ...stubctl.Option) (*httptest.Server, *stubctl.Client) {
	t.Helper()
	h, err := stub.NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := stubctl.New(srv.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

const jira = `{"id":"d7639fb8-8037-4ce2-80e9-c50bc3345c5a","name":"jira_prod","type_id":"jira","created_at":"2022-03-09T08:40:18Z","sharing_data":{"direction":"not_shared"}}`

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	srv, c := newStub(t, stub.Config{})
	ctx := context.Background()
	cr, err := c.CreateWorkspace(ctx, "ws1", json.RawMessage(jira))
	if err != nil {
		t.Fatal(err)
	}
	if cr.ID != "ws1" || cr.Token == "" || cr.ClientID == "" || cr.ClientSecret == "" {
		t.Fatalf("credentials %+v: want all set", cr.ID)
	}
	items, err := c.Integrations(ctx, "ws1")
	if err != nil || len(items) != 1 {
		t.Fatalf("Integrations = %d items, %v; want 1", len(items), err)
	}
	id, err := c.CreateScript(ctx, stubctl.Script{Workspace: "ws1", Steps: []stubctl.Step{{Status: 503}, {Pass: true}}})
	if err != nil {
		t.Fatal(err)
	}
	// One API request consumes the 503.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/public/v1alpha/integrations", nil)
	req.Header.Set("Authorization", "Bearer "+cr.Token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("scripted answer %d, want 503", resp.StatusCode)
	}
	scripts, err := c.Scripts(ctx)
	if err != nil || len(scripts) != 1 || scripts[0].ID != id || len(scripts[0].StepsLeft) != 1 {
		t.Fatalf("Scripts = %+v, %v; want %s with 1 step left", scripts, err, id)
	}
	entries, err := c.Requests(ctx, "ws1", 0)
	if err != nil || len(entries) != 1 || entries[0].Status != 503 || entries[0].Script != id {
		t.Fatalf("Requests = %+v, %v; want the 503 of %s", entries, err, id)
	}
	if n, err := c.ReplaceIntegrations(ctx, "ws1"); err != nil || n != 0 {
		t.Errorf("ReplaceIntegrations = %d, %v; want 0", n, err)
	}
	if err := c.ClearRequests(ctx, "ws1"); err != nil {
		t.Fatal(err)
	}
	if entries, _ := c.Requests(ctx, "", 0); len(entries) != 0 {
		t.Errorf("after ClearRequests: %d entries", len(entries))
	}
	if err := c.DeleteScript(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteScripts(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteWorkspace(ctx, "ws1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	list, err := c.Workspaces(ctx)
	if err != nil || len(list) != 1 || list[0].ID != "default" {
		t.Errorf("Workspaces after Reset = %+v, %v; want the default one", list, err)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	_, c := newStub(t, stub.Config{})
	ctx := context.Background()
	if _, err := c.CreateWorkspace(ctx, "ws1"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		call       func() error
		httpStatus int
		code       int32
		field      string
	}{
		{"taken id", func() error { _, err := c.CreateWorkspace(ctx, "ws1"); return err }, 409, 6, ""},
		{"no such workspace", func() error { return c.DeleteWorkspace(ctx, "nope") }, 404, 5, ""},
		{"no such script", func() error { return c.DeleteScript(ctx, "nope") }, 404, 5, ""},
		{"bad step", func() error {
			_, err := c.CreateScript(ctx, stubctl.Script{Workspace: "ws1", Steps: []stubctl.Step{{Pass: true}, {Status: 418}}})
			return err
		}, 400, 3, "steps[1].status"},
		{"bad integration", func() error {
			_, err := c.ReplaceIntegrations(ctx, "ws1", json.RawMessage(`{"id":"x"}`))
			return err
		}, 400, 3, "integrations[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e *stubctl.Error
			if err := tc.call(); !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want a *stubctl.Error", err, err)
			}
			if e.HTTPStatus != tc.httpStatus || e.Code != tc.code {
				t.Errorf("got HTTP %d code %d, want %d %d (%v)", e.HTTPStatus, e.Code, tc.httpStatus, tc.code, e)
			}
			if tc.field == "" {
				return
			}
			for _, v := range e.Violations {
				if len(v.Field) >= len(tc.field) && v.Field[:len(tc.field)] == tc.field && v.Description != "" {
					return
				}
			}
			t.Errorf("violations %+v: none names %s", e.Violations, tc.field)
		})
	}
}

func TestControlToken(t *testing.T) {
	t.Parallel()
	srv, _ := newStub(t, stub.Config{ControlToken: "ctl-secret"})
	for _, tc := range []struct {
		name string
		opts []stubctl.Option
		ok   bool
	}{
		{"without", nil, false},
		{"with", []stubctl.Option{stubctl.WithControlToken("ctl-secret")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := stubctl.New(srv.URL, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Workspaces(context.Background())
			var e *stubctl.Error
			switch {
			case tc.ok && err != nil:
				t.Errorf("err = %v, want none", err)
			case !tc.ok && (!errors.As(err, &e) || e.Code != 16):
				t.Errorf("err = %v, want UNAUTHENTICATED", err)
			}
		})
	}
}

// An answer that is not the route's and not a Status is an *Error that
// does not quote the body: it may carry a workspace's credentials.
func TestUnexpectedAnswerNotQuoted(t *testing.T) {
	t.Parallel()
	const secret = "ws1-secret-9c3e7a"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"ws1","token":"t","client_id":"c","client_secret":"` + secret + `"}`)) // 200, not 201
	}))
	t.Cleanup(srv.Close)
	c, err := stubctl.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateWorkspace(context.Background(), "ws1")
	var e *stubctl.Error
	if !errors.As(err, &e) || e.HTTPStatus != 200 {
		t.Fatalf("err = %v, want an *Error for HTTP 200", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error %q quotes the secret", err)
	}
}
