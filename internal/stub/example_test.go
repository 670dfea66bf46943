package stub_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/google/uuid"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/auth"
	"github.com/torqapi/integrations/internal/stub"
)

// The stub is an http.Handler: serve it with httptest (or http.Server) and
// call it like Torq's API.
func ExampleNewHandler() {
	s, err := stub.NewHandler(stub.Config{Integrations: []generated.Integration{{
		ID:          uuid.MustParse("d7639fb8-8037-4ce2-80e9-c50bc3345c5a"),
		Name:        "my_integration",
		DisplayName: "My Integration",
		TypeID:      "webhook",
		CreatedAt:   time.Date(2022, 3, 9, 8, 40, 18, 0, time.UTC),
	}}})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()

	for _, token := range []string{auth.DemoToken, "wrong"} {
		req, _ := http.NewRequest("GET", srv.URL+"/public/v1alpha/integrations?type_id=webhook", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%d %s", resp.StatusCode, body)
	}
	// Output:
	// 200 {"integrations":[{"id":"d7639fb8-8037-4ce2-80e9-c50bc3345c5a","name":"my_integration","display_name":"My Integration","type_id":"webhook","created_at":"2022-03-09T08:40:18Z"}]}
	// 401 {"code":16,"message":"Invalid bearer token. If you receive this message more than once try creating a new Client ID/Client Secret or generating a new bearer token.","details":[]}
}
