package benchdata_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/bench/benchdata"
	"github.com/torqapi/integrations/internal/contract"
)

// BenchmarkValidateList measures what kin-openapi charges to hold one list
// response against the contract (decode the body, walk every field, check
// the uuid and date-time formats): the cost the stub pays once per distinct
// body, reported per integration so its growth with the list is visible.
func BenchmarkValidateList(b *testing.B) {
	doc, err := contract.Load()
	if err != nil {
		b.Fatal(err)
	}
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/v1alpha/integrations", nil)
	route, params, err := router.FindRoute(req)
	if err != nil {
		b.Fatal(err)
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus:   true,
		SchemaValidationOptions: contract.SchemaOptions(doc), // uuid and date-time checked
	}
	for _, n := range []int{10, 1000, 10000} {
		body, err := json.Marshal(generated.IntegrationList{Integrations: benchdata.Integrations(n)})
		if err != nil {
			b.Fatal(err)
		}
		header := http.Header{"Content-Type": {"application/json"}}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{
				Request: req, PathParams: params, Route: route,
				Options: opts,
			},
			Status:  http.StatusOK,
			Header:  header,
			Options: opts,
		}
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				in.Body = io.NopCloser(bytes.NewReader(body))
				if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestValidateListRejects proves the benchmark above validates what it
// claims: a bad uuid and a bad date-time both fail with its options.
func TestValidateListRejects(t *testing.T) {
	doc, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/v1alpha/integrations", nil)
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatal(err)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, SchemaValidationOptions: contract.SchemaOptions(doc)}
	for _, body := range []string{
		`{"integrations":[{"id":"not-a-uuid"}]}`,
		`{"integrations":[{"created_at":"yesterday"}]}`,
	} {
		t.Run(body, func(t *testing.T) {
			in := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
				Status:                 http.StatusOK,
				Header:                 http.Header{"Content-Type": {"application/json"}},
				Body:                   io.NopCloser(bytes.NewReader([]byte(body))),
				Options:                opts,
			}
			if err := openapi3filter.ValidateResponse(context.Background(), in); err == nil {
				t.Fatal("want a validation error")
			}
		})
	}
}
