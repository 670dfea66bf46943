package apitest_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/torqapi/integrations/api"
	"github.com/torqapi/integrations/api/apitest"
	"github.com/torqapi/integrations/internal/testutil"
)

func TestServerDefaults(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t)
	if !strings.HasSuffix(srv.URL, "/public") || !strings.HasSuffix(srv.TokenURL, "/v1/auth/token") {
		t.Errorf("URL %q, TokenURL %q", srv.URL, srv.TokenURL)
	}
	if srv.Token == "" || srv.ClientID == "" || srv.ClientSecret == "" {
		t.Errorf("Token, ClientID and ClientSecret must be set: %+v", srv)
	}
	list, err := srv.Client().ListIntegrations(context.Background(), api.ListIntegrationsParams{})
	if err != nil || len(list) == 0 {
		t.Fatalf("default workspace: %d integrations, %v", len(list), err)
	}
	// The static token works too.
	c, err := api.NewClient(api.WithBaseURL(srv.URL), api.WithBearerToken(srv.Token))
	if err != nil {
		t.Fatal(err)
	}
	if list2, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{}); err != nil || len(list2) != len(list) {
		t.Fatalf("static token: %d integrations, %v", len(list2), err)
	}
}

func TestEmptyWorkspace(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, apitest.WithIntegrations())
	list, err := srv.Client().ListIntegrations(context.Background(), api.ListIntegrationsParams{})
	if err != nil || list == nil || len(list) != 0 {
		t.Fatalf("got %#v, %v; want an empty, non-nil list", list, err)
	}
}

func TestFixturesFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "f.yaml")
	yaml := "integrations:\n  - id: 5b0c3f2e-9a41-4d7e-8c6a-1f2e3d4c5b6a\n    name: slack_alerts\n    display_name: Slack Alerts\n    type_id: slack\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := apitest.NewServer(t, apitest.WithFixturesFile(path))
	list, err := srv.Client().ListIntegrations(context.Background(), api.ListIntegrationsParams{})
	if err != nil || len(list) != 1 || list[0].Name != "slack_alerts" {
		t.Fatalf("got %v, %v", list, err)
	}
}

func TestBadConfigurationFailsTheTest(t *testing.T) {
	t.Parallel()
	tests := map[string][]apitest.Option{
		"invalid integration": {apitest.WithIntegrations(api.Integration{SharingData: api.SharingData{Direction: "sideways"}})},
		"missing file":        {apitest.WithFixturesFile(filepath.Join(t.TempDir(), "missing.json"))},
		"error rate above 1":  {apitest.WithErrorRate(2)},
		"token TTL too short": {apitest.WithTokenTTL(1)},
	}
	for name, opts := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tb := &testutil.TB{}
			defer tb.Done()
			tb.Run(func() { apitest.NewServer(tb, opts...) })
			if len(tb.Errors()) == 0 {
				t.Fatal("NewServer did not fail the test")
			}
		})
	}
}

func TestRequestsAreRecordedAndRedacted(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, apitest.WithClientSecret("s+/=$ecret"))
	c := srv.Client(api.WithUserAgent("recorder-test"))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{TypeID: "slack"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	reqs := srv.Requests()
	var tokens, lists int
	for _, r := range reqs {
		switch r.Path {
		case "/v1/auth/token":
			tokens++
			if r.Method != http.MethodPost || string(r.Body) != "grant_type=client_credentials" || r.Header.Get("Authorization") != "Basic [REDACTED]" {
				t.Errorf("token request %+v", r)
			}
		case "/public/v1alpha/integrations":
			lists++
			if r.Query.Get("type_id") != "slack" || r.Header.Get("Authorization") != "Bearer [REDACTED]" || r.Header.Get("User-Agent") != "recorder-test" {
				t.Errorf("list request %+v", r)
			}
		}
	}
	if tokens != 1 || lists != 4 {
		t.Errorf("%d token and %d list requests, want 1 and 4 (one cached token)", tokens, lists)
	}
}

func TestForcedError(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t)
	c, err := api.NewClient(api.WithBaseURL(srv.URL), api.WithBearerToken("not-a-token"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
	var e *api.Error
	if !errors.As(err, &e) || e.Code != api.CodeUnauthenticated || e.HTTPStatus != 401 {
		t.Fatalf("error = %v", err)
	}
}
