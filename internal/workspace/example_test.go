package workspace_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/google/uuid"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/fixtures"
	"github.com/torqapi/integrations/internal/workspace"
)

// A workspace shares an integration with another: the other lists it as
// incoming, without holding it itself.
func Example() {
	items, err := fixtures.CheckValues([]generated.Integration{{
		ID:          uuid.MustParse("d7639fb8-8037-4ce2-80e9-c50bc3345c5a"),
		TypeID:      "webhook",
		SharingData: generated.SharingData{Direction: generated.SharingOutgoing, WorkspaceIDs: []string{"b"}},
	}})
	if err != nil {
		panic(err)
	}
	s, err := workspace.New([]workspace.Spec{
		{ID: "a", Tokens: []string{"token-of-a"}, Integrations: items},
		{ID: "b"},
	})
	if err != nil {
		panic(err)
	}
	id, denied, ok := s.WorkspaceForToken("token-of-a")
	fmt.Println(id, denied, ok)
	w := httptest.NewRecorder()
	_ = s.Get("b").Snapshot().List("webhook").VisitListIntegrationsResponse(w)
	fmt.Print(w.Body.String())
	fmt.Println(s.List())
	// Output:
	// a false true
	// {"integrations":[{"id":"d7639fb8-8037-4ce2-80e9-c50bc3345c5a","type_id":"webhook","sharing_data":{"direction":"incoming","workspace_ids":["a"]}}]}
	// [{a 1} {b 1}]
}
