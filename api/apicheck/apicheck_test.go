package apicheck_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/torqapi/integrations/api"
	"github.com/torqapi/integrations/api/apicheck"
)

const sideways = `{"integrations":[{"id":"d7639fb8-8037-4ce2-80e9-c50bc3345c5a","sharing_data":{"direction":"sideways"}}]}`

// server answers every request with status and body, as JSON.
func server(t *testing.T, status int, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func client(t *testing.T, base string, opts ...api.Option) *api.Client {
	t.Helper()
	all := []api.Option{api.WithBaseURL(base), api.WithBearerToken("tok-123456"), api.WithRetry(api.RetryPolicy{MaxAttempts: 1})}
	c, err := api.NewClient(append(all, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestModes(t *testing.T) {
	t.Parallel()
	wantField := "integrations.0.sharing_data.direction"
	t.Run("strict fails the call", func(t *testing.T) {
		t.Parallel()
		chk, err := apicheck.New()
		if err != nil {
			t.Fatal(err)
		}
		srv := server(t, 200, sideways)
		_, err = client(t, srv.URL+"/public", chk.Option()).ListIntegrations(context.Background(), api.ListIntegrationsParams{})
		var ce *api.ContractError
		if !errors.As(err, &ce) || ce.Field != wantField || ce.Method != "GET" || ce.Path != "/v1alpha/integrations" || ce.HTTPStatus != 200 {
			t.Fatalf("error = %v (%+v), want a ContractError on %s of GET /v1alpha/integrations", err, ce, wantField)
		}
	})
	t.Run("report returns the data and reports", func(t *testing.T) {
		t.Parallel()
		var (
			mu       sync.Mutex
			reported []*api.ContractError
		)
		chk, err := apicheck.New(apicheck.Report(func(ce *api.ContractError) {
			mu.Lock()
			defer mu.Unlock()
			reported = append(reported, ce)
		}))
		if err != nil {
			t.Fatal(err)
		}
		srv := server(t, 200, sideways)
		list, err := client(t, srv.URL+"/public", chk.Option()).ListIntegrations(context.Background(), api.ListIntegrationsParams{})
		if err != nil || len(list) != 1 || list[0].SharingData.Direction != "sideways" || list[0].SharingData.Direction.Valid() {
			t.Fatalf("got %+v, %v; want the integration with its unknown direction", list, err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(reported) != 1 || reported[0].Field != wantField || !strings.Contains(reported[0].Error(), "not one of the allowed values") {
			t.Errorf("reported %v, want one violation of %s", reported, wantField)
		}
	})
	t.Run("report passes an error answer through as *api.Error", func(t *testing.T) {
		t.Parallel()
		var n int
		chk, err := apicheck.New(apicheck.Report(func(*api.ContractError) { n++ }))
		if err != nil {
			t.Fatal(err)
		}
		srv := server(t, 403, `{"code":"seven","message":"no"}`)
		_, err = client(t, srv.URL+"/public", chk.Option()).ListIntegrations(context.Background(), api.ListIntegrationsParams{})
		var e *api.Error
		if !errors.As(err, &e) || e.HTTPStatus != 403 || n != 1 {
			t.Fatalf("error = %v, %d reports; want the 403 *api.Error and one report", err, n)
		}
	})
}

// TestRoutesByRequest: each answer is checked against the operation its
// request went to (method, path relative to the base URL), whatever the
// base path.
func TestRoutesByRequest(t *testing.T) {
	t.Parallel()
	chk, err := apicheck.New()
	if err != nil {
		t.Fatal(err)
	}
	valid := `{"integrations":[]}`
	for _, base := range []string{"/public", "", "/some/deeper/prefix"} {
		t.Run("base "+base, func(t *testing.T) {
			t.Parallel()
			var seen []string
			check := func(r *api.CheckedResponse) error {
				seen = append(seen, r.Request.Method+" "+r.Path+" auth="+r.Request.Header.Get("Authorization"))
				return chk.Check(r)
			}
			srv := server(t, 200, valid)
			_, err := client(t, srv.URL+base, api.WithResponseCheck(check)).ListIntegrations(context.Background(), api.ListIntegrationsParams{TypeID: "slack"})
			if err != nil {
				t.Fatal(err)
			}
			if want := "[GET /v1alpha/integrations auth=]"; len(seen) != 1 || "["+seen[0]+"]" != want {
				t.Errorf("checked %q, want %s (no Authorization given to the check)", seen, want)
			}
		})
	}
	t.Run("a path the contract lacks", func(t *testing.T) {
		t.Parallel()
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/public/v1alpha/nothing", nil)
		err := chk.Check(&api.CheckedResponse{Request: req, Path: "/v1alpha/nothing", StatusCode: 200,
			Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(valid)})
		var ce *api.ContractError
		if !errors.As(err, &ce) || ce.Path != "/v1alpha/nothing" || !strings.Contains(ce.Reason, "no operation GET /v1alpha/nothing") {
			t.Fatalf("error = %v, want a ContractError naming the missing operation", err)
		}
	})
	t.Run("the wrong method", func(t *testing.T) {
		t.Parallel()
		req := httptest.NewRequest(http.MethodDelete, "http://127.0.0.1/public/v1alpha/integrations", nil)
		err := chk.Check(&api.CheckedResponse{Request: req, Path: "/v1alpha/integrations", StatusCode: 200,
			Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(valid)})
		var ce *api.ContractError
		if !errors.As(err, &ce) || ce.Method != http.MethodDelete {
			t.Fatalf("error = %v, want a ContractError for DELETE", err)
		}
	})
}

func ExampleReport() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(sideways)) // a direction the contract does not know (yet)
	}))
	defer srv.Close()

	chk, err := apicheck.New(apicheck.Report(func(ce *api.ContractError) {
		fmt.Println("reported:", ce)
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := api.NewClient(api.WithBaseURL(srv.URL+"/public"), api.WithBearerToken("tok-123456"), chk.Option())
	if err != nil {
		fmt.Println(err)
		return
	}
	list, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
	fmt.Println(len(list), list[0].SharingData.Direction, list[0].SharingData.Direction.Valid(), err)
	// Output:
	// reported: torq: response violates the contract: field integrations.0.sharing_data.direction: value is not one of the allowed values ["not_shared","incoming","outgoing"]
	// 1 sideways false <nil>
}
