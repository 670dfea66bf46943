package apitest_test

import (
	"context"
	"testing"
	"time"

	"github.com/torqapi/integrations/api"
	"github.com/torqapi/integrations/api/apitest"
)

// TestRetryOn503 is README.md's apitest example, word for word: keep the
// two in sync.
func TestRetryOn503(t *testing.T) {
	srv := apitest.NewServer(t)
	srv.RequireClean(t) // fails the test, at its end, on a contract violation or warning
	ws := srv.Workspace(t, apitest.WorkspaceIntegrations(hook))
	sc := ws.Script(t, apitest.Status(503), apitest.RetryAfter(429, time.Second), apitest.Pass())

	list, err := ws.Client().ListIntegrations(context.Background(), api.ListIntegrationsParams{})
	if err != nil || len(list) != 1 {
		t.Fatalf("%v, %v", list, err)
	}
	if n := len(srv.Journal(ws.ID)); n != 3 || sc.Left() != 0 { // 503, 429, 200
		t.Fatalf("%d requests, %d steps left", n, sc.Left())
	}
}
