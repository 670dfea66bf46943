package api_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/torqapi/integrations/api"
	"github.com/torqapi/integrations/api/apitest"
	"github.com/torqapi/integrations/internal/testutil"
)

// exampleStub starts the project's stub of Torq's API in-process, so the
// examples run without a network; with Torq itself, leave out WithBaseURL
// and WithTokenURL (or use WithRegion).
func exampleStub(opts ...apitest.Option) (srv *apitest.Server, stop func()) {
	t := &testutil.TB{}
	return apitest.NewServer(t, opts...), t.Done
}

// exampleWorkspace is the data the ListIntegrations example is served.
var exampleWorkspace = []api.Integration{
	{ID: uuid.MustParse("d7639fb8-8037-4ce2-80e9-c50bc3345c5a"), Name: "my_integration", DisplayName: "My Integration",
		TypeID: "webhook", CreatedAt: time.Date(2022, 3, 9, 8, 40, 18, 0, time.UTC),
		Details:     api.IntegrationDetails{Trigger: api.TriggerDetails{WebhookURL: "https://hooks.torq.io/v1/webhooks/d7639fb8-8037-4ce2-80e9-c50bc3345c5a"}},
		SharingData: api.SharingData{Direction: api.SharingNotShared}},
	{ID: uuid.MustParse("5b0c3f2e-9a41-4d7e-8c6a-1f2e3d4c5b6a"), Name: "slack_security_alerts", DisplayName: "Slack - Security Alerts",
		TypeID: "slack", CreatedAt: time.Date(2023, 11, 20, 14, 5, 31, 0, time.UTC),
		SharingData: api.SharingData{Direction: api.SharingOutgoing, WorkspaceIDs: []string{"0b7c2c55-5d2e-4a56-9f1e-3c8a7b6d5e4f"}}},
}

func ExampleNewClient() {
	srv, stop := exampleStub()
	defer stop()

	c, err := api.NewClient(
		api.WithBaseURL(srv.URL), // Torq: api.WithRegion(api.RegionUS) (the default) or api.RegionEU
		api.WithTokenURL(srv.TokenURL),
		api.WithClientCredentials(srv.ClientID, srv.ClientSecret),
		api.WithRetry(api.RetryPolicy{MaxAttempts: 5}),
		api.WithRateLimit(api.RateLimitTorq),
		api.WithTimeouts(api.Timeouts{Attempt: 20 * time.Second}), // 10s connect, 30s headers, 60s attempt by default
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	list, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
	fmt.Println(len(list) > 0, err)

	_, err = api.NewClient(api.WithRegion(api.RegionEU))
	fmt.Println(err)
	// Output:
	// true <nil>
	// api: NewClient: no credentials: use WithClientCredentials(clientID, clientSecret) or WithBearerToken(token)
}

func ExampleClient_ListIntegrations() {
	srv, stop := exampleStub(apitest.WithIntegrations(exampleWorkspace...))
	defer stop()
	c, err := api.NewClient(api.WithBaseURL(srv.URL), api.WithBearerToken(srv.Token))
	if err != nil {
		fmt.Println(err)
		return
	}

	ctx := context.Background()
	all, err := c.ListIntegrations(ctx, api.ListIntegrationsParams{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, it := range all {
		fmt.Printf("%s %s %q shared=%s created=%s\n", it.ID, it.TypeID, it.DisplayName,
			it.SharingData.Direction, it.CreatedAt.Format(time.DateOnly))
	}

	webhooks, err := c.ListIntegrations(ctx, api.ListIntegrationsParams{TypeID: "webhook"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, it := range webhooks {
		fmt.Println(it.Name, it.Details.Trigger.WebhookURL)
	}
	// Output:
	// d7639fb8-8037-4ce2-80e9-c50bc3345c5a webhook "My Integration" shared=not_shared created=2022-03-09
	// 5b0c3f2e-9a41-4d7e-8c6a-1f2e3d4c5b6a slack "Slack - Security Alerts" shared=outgoing created=2023-11-20
	// my_integration https://hooks.torq.io/v1/webhooks/d7639fb8-8037-4ce2-80e9-c50bc3345c5a
}

func ExampleError() {
	srv, stop := exampleStub()
	defer stop()
	c, err := api.NewClient(api.WithBaseURL(srv.URL), api.WithBearerToken("an-expired-token"))
	if err != nil {
		fmt.Println(err)
		return
	}

	_, err = c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
	var e *api.Error
	if errors.As(err, &e) {
		fmt.Println(e.HTTPStatus, e.Code, e.Code == api.CodeUnauthenticated)
		fmt.Println(e.Header.Get("WWW-Authenticate") != "")
	}
	fmt.Println(err)
	// Output:
	// 401 UNAUTHENTICATED true
	// true
	// torq: 401 UNAUTHENTICATED: Invalid bearer token. If you receive this message more than once try creating a new Client ID/Client Secret or generating a new bearer token.
}
