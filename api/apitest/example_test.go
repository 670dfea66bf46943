package apitest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/torqapi/integrations/api"
	"github.com/torqapi/integrations/api/apitest"
)

// exampleT stands in for the *testing.T a test passes to NewServer.
type exampleT struct {
	testing.TB
	cleanups []func()
}

func (t *exampleT) Helper()                           {}
func (t *exampleT) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (t *exampleT) done() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

func ExampleNewServer() {
	t := &exampleT{} // in a test: its *testing.T
	defer t.done()

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
