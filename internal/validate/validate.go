// Package validate holds requests and responses against the contract
// (openapi.yaml) with kin-openapi, as the stub's net/http middleware.
//
// A Validator is built once from the document internal/contract loads; an
// Operation is one route of it (GET /v1alpha/integrations), looked up once at
// start so that no request pays for routing twice: the stub's ServeMux has
// already chosen the operation by the time validation runs.
//
// Request verdicts are cached: for an operation whose parameters are all in
// the query and that takes no body, kin-openapi's verdict depends only on the
// method and the raw query, so it is computed once per distinct query (the
// cache is bounded). Operation.Check validates a response on its way out;
// bytes validated in advance (the stub's precomputed lists) are simply
// written without it.
package validate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/torqapi/integrations/internal/contract"
	"github.com/torqapi/integrations/internal/rpcstatus"
)

// CacheSize bounds the number of request verdicts an Operation keeps. When
// it is full the cache starts over, so random queries (a fuzzer, a scanner)
// cannot grow memory.
const CacheSize = 1024

// Validator validates requests and responses against one OpenAPI document.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
	status *openapi3.Schema
	opts   []openapi3.SchemaValidationOption
}

// New returns a Validator for doc, which should come from contract.Load
// (formats, uuid included, are checked). New empties doc.Servers: the stub
// serves the contract on its own host and under both `/` and `/public`, and
// routing is done by the caller's ServeMux, not by the servers' URLs.
func New(doc *openapi3.T) (*Validator, error) {
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("validate: build router: %w", err)
	}
	status, err := contract.Schema(doc, "Status")
	if err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	return &Validator{doc: doc, router: router, status: status, opts: contract.SchemaOptions(doc)}, nil
}

// ValidateStatus checks that body is a google.rpc.Status as the contract's
// Status schema describes it. It is meant for error bodies the stub writes
// outside the contract's operations (an unknown path, a wrong method).
func (v *Validator) ValidateStatus(body []byte) error {
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return fmt.Errorf("status body is not JSON: %w", err)
	}
	if err := v.status.VisitJSON(value, v.opts...); err != nil {
		return fmt.Errorf("status body doesn't match schema Status: %w", err)
	}
	return nil
}

// Operation is one operation of the contract, ready to validate its requests
// and responses. It is safe for concurrent use.
type Operation struct {
	route     *routers.Route
	reqOpts   *openapi3filter.Options
	respOpts  *openapi3filter.Options
	probe     *http.Request // a request for the operation, for validating responses built without one
	cacheable bool

	mu    sync.RWMutex
	cache map[cacheKey]*rpcstatus.Error // nil value: the request is valid
}

type cacheKey struct{ method, query string }

// Operation returns the operation the contract defines for method and path
// (a path as the contract writes it, such as "/v1alpha/integrations").
func (v *Validator) Operation(method, path string) (*Operation, error) {
	probe, err := http.NewRequest(method, path, nil)
	if err != nil {
		return nil, fmt.Errorf("validate: %s %s: %w", method, path, err)
	}
	route, _, err := v.router.FindRoute(probe)
	if err != nil {
		return nil, fmt.Errorf("validate: the contract has no operation %s %s: %w", method, path, err)
	}
	op := &Operation{
		route: route,
		reqOpts: &openapi3filter.Options{
			// Authentication runs before validation in the stub, so by the
			// time a request gets here its credentials were accepted.
			AuthenticationFunc:      func(context.Context, *openapi3filter.AuthenticationInput) error { return nil },
			SkipSettingDefaults:     true,
			SchemaValidationOptions: v.opts,
		},
		respOpts: &openapi3filter.Options{
			IncludeResponseStatus:   true,
			SchemaValidationOptions: v.opts,
		},
		probe:     probe,
		cacheable: cacheable(route),
		cache:     make(map[cacheKey]*rpcstatus.Error),
	}
	return op, nil
}

// cacheable reports whether kin-openapi's verdict on a request for route
// depends on nothing but the method and the raw query: no body and only
// query parameters.
func cacheable(route *routers.Route) bool {
	if route.Operation.RequestBody != nil {
		return false
	}
	for _, params := range []openapi3.Parameters{route.PathItem.Parameters, route.Operation.Parameters} {
		for _, p := range params {
			if p.Value == nil || p.Value.In != openapi3.ParameterInQuery {
				return false
			}
		}
	}
	return true
}

// ValidateRequest validates r against the operation. It returns nil or an
// *rpcstatus.Error of code INVALID_ARGUMENT with a google.rpc.BadRequest
// detail naming the offending parameter. Do not modify the returned error.
func (o *Operation) ValidateRequest(r *http.Request) error {
	if !o.cacheable {
		return o.validateRequest(r)
	}
	key := cacheKey{r.Method, r.URL.RawQuery}
	o.mu.RLock()
	verdict, ok := o.cache[key]
	o.mu.RUnlock()
	if ok {
		if verdict == nil {
			return nil
		}
		return verdict
	}
	err := o.validateRequest(r)
	var e *rpcstatus.Error
	if err != nil {
		e = err.(*rpcstatus.Error)
	}
	o.mu.Lock()
	if len(o.cache) >= CacheSize {
		clear(o.cache)
	}
	o.cache[key] = e
	o.mu.Unlock()
	return err
}

func (o *Operation) validateRequest(r *http.Request) error {
	input := &openapi3filter.RequestValidationInput{
		Request: r,
		Route:   o.route,
		Options: o.reqOpts,
	}
	err := openapi3filter.ValidateRequest(r.Context(), input)
	if err == nil {
		return nil
	}
	return badRequest(err)
}

// badRequest turns a kin-openapi request error into INVALID_ARGUMENT with a
// BadRequest detail, the way grpc-gateway reports a bad parameter.
func badRequest(err error) *rpcstatus.Error {
	field, desc := "", err.Error()
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		if re.Parameter != nil {
			field = re.Parameter.Name
		}
		desc = re.Reason
		if re.Err != nil {
			desc = re.Err.Error()
			var se *openapi3.SchemaError
			if errors.As(re.Err, &se) && se.Reason != "" {
				desc = se.Reason
			}
		}
	}
	if field == "" {
		field = "request"
	}
	return rpcstatus.Errorf(rpcstatus.InvalidArgument, "%s: %s", field, desc).
		WithDetails(rpcstatus.BadRequest(rpcstatus.FieldViolation{Field: field, Description: desc}))
}

// ValidateResponse validates a response of the operation: its status,
// headers and body. r is the request it answers (nil: a GET). The error, if
// any, says on one line why the response breaks the contract, and wraps
// kin-openapi's error (an *openapi3.SchemaError names the field).
func (o *Operation) ValidateResponse(r *http.Request, status int, header http.Header, body []byte) error {
	if r == nil {
		r = o.probe
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, Route: o.route, Options: o.respOpts},
		Status:                 status,
		Header:                 header,
		Options:                o.respOpts,
	}
	input.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(r.Context(), input); err != nil {
		return &responseError{method: o.route.Method, path: o.route.Path, status: status, err: err}
	}
	return nil
}

// responseError is a response that breaks the contract: a one-line message
// for logs, and kin-openapi's error underneath (errors.As finds its
// *openapi3.SchemaError, with the offending field).
type responseError struct {
	method, path string
	status       int
	err          error
}

func (e *responseError) Error() string {
	return fmt.Sprintf("%s %s: %d response: %s", e.method, e.path, e.status, oneLine(e.err.Error()))
}

func (e *responseError) Unwrap() error { return e.err }

// oneLine folds kin-openapi's multi-line schema errors into one log-friendly
// line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
