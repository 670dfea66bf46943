package auth_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/torqapi/integrations/internal/auth"
)

// The token endpoint and a bearer check, wired as the stub wires them.
func Example() {
	a, err := auth.New(auth.Config{}) // demo credentials, random signing key
	if err != nil {
		panic(err)
	}

	req := httptest.NewRequest(http.MethodPost, "/v1/auth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(auth.DemoClientID, auth.DemoClientSecret)
	w := httptest.NewRecorder()
	a.ServeToken(w, req)
	fmt.Println(w.Code, w.Header().Get("Cache-Control"))

	call := httptest.NewRequest(http.MethodGet, "/public/v1alpha/integrations", nil)
	call.Header.Set("Authorization", "Bearer "+auth.DemoToken)
	p, err := a.Authenticate(call)
	fmt.Println(p.ID, err)

	call.Header.Set("Authorization", "Bearer not-a-token")
	_, err = a.Authenticate(call)
	fmt.Println(err)
	// Output:
	// 200 no-store
	// token#2923d265 <nil>
	// UNAUTHENTICATED: Invalid bearer token. If you receive this message more than once try creating a new Client ID/Client Secret or generating a new bearer token.
}
