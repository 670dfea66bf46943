package apitest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/torqapi/integrations/api"
	"github.com/torqapi/integrations/api/apitest"
	"github.com/torqapi/integrations/internal/testutil"
)

var hook = api.Integration{
	ID:        uuid.MustParse("d7639fb8-8037-4ce2-80e9-c50bc3345c5a"),
	Name:      "my_integration",
	TypeID:    "webhook",
	CreatedAt: time.Date(2022, 3, 9, 8, 40, 18, 0, time.UTC),
}

func list(t *testing.T, c *api.Client, p api.ListIntegrationsParams) ([]api.Integration, error) {
	t.Helper()
	return c.ListIntegrations(context.Background(), p)
}

func TestWorkspaceLifecycle(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t)
	ws := srv.Workspace(t, apitest.WorkspaceID("team-a"), apitest.WorkspaceIntegrations(hook))
	if ws.ID != "team-a" || ws.Token == "" || ws.ClientID == "" || ws.ClientSecret == "" {
		t.Fatalf("workspace %q: want its id and credentials", ws.ID)
	}
	for name, c := range map[string]*api.Client{
		"client credentials": ws.Client(),
		"static token":       ws.TokenClient(),
	} {
		got, err := list(t, c, api.ListIntegrationsParams{})
		if err != nil || len(got) != 1 || got[0].Name != "my_integration" {
			t.Errorf("%s: %v, %v; want my_integration only", name, got, err)
		}
	}
	ws.SetIntegrations(t)
	if got, err := list(t, ws.Client(), api.ListIntegrationsParams{}); err != nil || len(got) != 0 {
		t.Errorf("after SetIntegrations(): %v, %v; want none", got, err)
	}
	// The default workspace is untouched.
	if got, err := list(t, srv.Client(), api.ListIntegrationsParams{}); err != nil || len(got) == 0 {
		t.Errorf("default workspace: %d, %v; want its integrations", len(got), err)
	}
	ws.Delete(t)
	if _, err := list(t, ws.TokenClient(), api.ListIntegrationsParams{}); err == nil {
		t.Error("a deleted workspace's token still works")
	}
}

func TestScriptMatchAndRepeat(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t)
	ws := srv.Workspace(t, apitest.WorkspaceIntegrations(hook))
	other := srv.Workspace(t, apitest.WorkspaceIntegrations(hook))
	noRetry := api.WithRetry(api.RetryPolicy{MaxAttempts: 1})
	sc := ws.Script(t, apitest.Status(403).WithMessage("scripted"), apitest.MatchQuery("type_id", "jira"), apitest.Repeat())
	tok := ws.Script(t, apitest.Status(404), apitest.MatchToken(ws.Token))

	// Another workspace, and a query that does not match, are not scripted.
	if _, err := list(t, other.Client(noRetry), api.ListIntegrationsParams{TypeID: "jira"}); err != nil {
		t.Errorf("other workspace: %v", err)
	}
	// The client-credentials token is not ws.Token: the token script
	// leaves it alone, the query script does not.
	c := ws.Client(noRetry)
	for range 2 { // repeats
		_, err := list(t, c, api.ListIntegrationsParams{TypeID: "jira"})
		if err == nil || !strings.Contains(err.Error(), "scripted") {
			t.Errorf("err = %v, want the scripted 403", err)
		}
	}
	if n := sc.Left(); n != 1 {
		t.Errorf("repeating script: %d steps left, want 1", n)
	}
	if n := tok.Left(); n != 1 {
		t.Errorf("token script: %d left before its token came, want 1", n)
	}
	if _, err := list(t, ws.TokenClient(noRetry), api.ListIntegrationsParams{}); err == nil {
		t.Error("static token: want the scripted 404")
	}
	if n := tok.Left(); n != 0 {
		t.Errorf("token script: %d left, want 0", n)
	}
}

func TestStepsRefused(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t)
	ws := srv.Workspace(t)
	for name, items := range map[string][]any{
		"status":      {apitest.Status(418)},
		"retry after": {apitest.RetryAfter(500, time.Second)},
		"no steps":    {apitest.Repeat()},
		"not a step":  {503},
	} {
		ft := &testutil.TB{TB: t}
		ft.Run(func() { ws.Script(ft, items...) })
		ft.Done()
		if len(ft.Errors()) == 0 {
			t.Errorf("%s: script accepted, want the test failed", name)
		}
	}
}

func TestRequireClean(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		query string
		fails bool
	}{
		{"clean", "type_id=webhook", false},
		{"unknown parameter", "type_idd=webhook", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := apitest.NewServer(t)
			ws := srv.Workspace(t)
			ft := &testutil.TB{TB: t}
			srv.RequireClean(ft)
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1alpha/integrations?"+tc.query, nil)
			req.Header.Set("Authorization", "Bearer "+ws.Token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			ft.Done()
			if got := len(ft.Errors()) > 0; got != tc.fails {
				t.Errorf("RequireClean failed the test: %v (%q), want %v", got, ft.Errors(), tc.fails)
			}
		})
	}
}

func TestJournalAndReset(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t)
	ws := srv.Workspace(t)
	ws.Script(t, apitest.Status(503), apitest.Pass(), apitest.Status(503))
	if _, err := list(t, ws.Client(), api.ListIntegrationsParams{TypeID: "webhook"}); err != nil {
		t.Fatal(err)
	}
	got := srv.Journal(ws.ID)
	if len(got) != 2 {
		t.Fatalf("journal: %+v, want 2 entries", got)
	}
	e := got[0]
	if e.Method != "GET" || e.Path != "/public/v1alpha/integrations" || e.Query.Get("type_id") != "webhook" ||
		e.Status != 503 || e.Workspace != ws.ID || e.RequestID == "" || e.Script == "" || e.Step != 0 {
		t.Errorf("entry %+v", e)
	}
	srv.ClearJournal(ws.ID)
	if n := len(srv.Journal(ws.ID)); n != 0 {
		t.Errorf("after ClearJournal: %d entries", n)
	}
	srv.Reset()
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("after Reset: %d recorded requests", n)
	}
	if _, err := list(t, ws.Client(), api.ListIntegrationsParams{}); err == nil {
		t.Error("after Reset: the workspace still answers")
	}
}
