package apitest_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"

	"github.com/torqapi/integrations/api"
	"github.com/torqapi/integrations/api/apitest"
	"github.com/torqapi/integrations/internal/testutil"
)

func ExampleNewServer() {
	t := &testutil.TB{Out: os.Stdout} // in a test: its *testing.T
	defer t.Done()

	hook := api.Integration{
		ID:          uuid.MustParse("d7639fb8-8037-4ce2-80e9-c50bc3345c5a"),
		Name:        "my_integration",
		DisplayName: "My Integration",
		TypeID:      "webhook",
		CreatedAt:   time.Date(2022, 3, 9, 8, 40, 18, 0, time.UTC),
	}
	srv := apitest.NewServer(t, apitest.WithIntegrations(hook)) // closed by t.Cleanup
	c := srv.Client()                                           // client credentials, token endpoint and base URL wired

	list, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{TypeID: "webhook"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, it := range list {
		fmt.Println(it.ID, it.Name, it.TypeID)
	}
	for _, r := range srv.Requests() {
		fmt.Println(r.Method, r.Path, r.Query.Encode(), r.Header.Get("Authorization"))
	}
	// Output:
	// d7639fb8-8037-4ce2-80e9-c50bc3345c5a my_integration webhook
	// POST /v1/auth/token  Basic [REDACTED]
	// GET /public/v1alpha/integrations type_id=webhook Bearer [REDACTED]
}

func ExampleWorkspace_Script() {
	t := &testutil.TB{Out: os.Stdout} // in a test: its *testing.T
	defer t.Done()

	srv := apitest.NewServer(t)
	srv.RequireClean(t) // at the end: no contract violation or warning in the journal
	ws := srv.Workspace(t)
	sc := ws.Script(t, apitest.Status(503), apitest.RetryAfter(429, time.Second), apitest.Pass())

	c := ws.Client(api.WithRetry(api.RetryPolicy{MaxAttempts: 1}))
	for range 3 {
		_, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
		fmt.Println(err, sc.Left())
	}
	for _, e := range srv.Journal(ws.ID) {
		fmt.Println(e.Method, e.Path, e.Status, e.Step)
	}
	// Output:
	// torq: 503 UNAVAILABLE: The service is currently unavailable, retry later. 2
	// torq: 429 RESOURCE_EXHAUSTED: Too many requests, retry later. 1
	// <nil> 0
	// GET /public/v1alpha/integrations 503 0
	// GET /public/v1alpha/integrations 429 1
	// GET /public/v1alpha/integrations 200 2
}
