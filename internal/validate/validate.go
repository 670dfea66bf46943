// Package validate is kin-openapi over one contract: it routes a request to
// the operation the contract declares for it, and holds requests and
// responses of that operation against the contract.
//
// A Validator is built once from a document internal/contract loads; it
// holds one Operation for every operation of the document, so that adding an
// operation to the contract adds it here with no code to write. Find routes
// a method and path with kin-openapi's router and returns the operation and
// its path parameters; a path the contract does not declare is a
// *RouteError saying whether another method would have matched (405) or
// none (404).
//
// Operation.ValidateRequest checks every parameter the operation declares
// (path, query, header), and Operation.Check validates a response on its way
// out. A response whose bytes were validated in advance (the stub's
// precomputed lists) marks itself with Prevalidated and is written without
// being buffered or validated again.
package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/torqapi/integrations/internal/contract"
	"github.com/torqapi/integrations/internal/rpcstatus"
)

// Validator routes and validates requests and responses of one OpenAPI
// document. It is immutable once built and safe for concurrent use.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
	status *openapi3.Schema
	opts   []openapi3.SchemaValidationOption
	ops    map[*routers.Route]*Operation
	list   []*Operation
	// static are the operations of paths without parameters, by method and
	// path: they are found without the router, which allocates a request
	// and a parameter map to match a path.
	static map[[2]string]*Operation
}

// routeMethods are the methods a path can be probed for when a request's
// method does not match, to answer 405 with the right Allow header.
var routeMethods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions, http.MethodTrace,
}

// New returns a Validator for doc, which should come from contract.Load
// (formats, uuid included, are checked). New empties doc.Servers: the stub
// serves the contract on its own host and under both `/` and `/public`, so
// paths are matched as the contract writes them, without a server prefix.
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
	v := &Validator{doc: doc, router: router, status: status, opts: contract.SchemaOptions(doc), ops: map[*routers.Route]*Operation{}, static: map[[2]string]*Operation{}}
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		for _, method := range routeMethods {
			if item.GetOperation(method) == nil {
				continue
			}
			// The router's own route value, so that Find maps what the
			// router returns to the Operation built here.
			route, _, err := router.FindRoute(probe(method, samplePath(path)))
			if err != nil {
				return nil, fmt.Errorf("validate: route %s %s: %w", method, path, err)
			}
			op := v.newOperation(route)
			v.ops[route] = op
			v.list = append(v.list, op)
			if !strings.Contains(path, "{") {
				v.static[[2]string{method, path}] = op
			}
		}
	}
	slices.SortFunc(v.list, func(a, b *Operation) int {
		return strings.Compare(a.route.Path+" "+a.route.Method, b.route.Path+" "+b.route.Method)
	})
	return v, nil
}

// samplePath fills each {param} of a templated path with a value the
// router accepts, for finding the route of that path.
func samplePath(path string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(path, '{')
		if i < 0 {
			b.WriteString(path)
			return b.String()
		}
		j := strings.IndexByte(path[i:], '}')
		if j < 0 {
			b.WriteString(path)
			return b.String()
		}
		b.WriteString(path[:i])
		b.WriteString("x")
		path = path[i+j+1:]
	}
}

func probe(method, path string) *http.Request {
	return &http.Request{Method: method, URL: &url.URL{Path: path}, Header: http.Header{}}
}

// Operations returns every operation of the contract, ordered by path and
// method.
func (v *Validator) Operations() []*Operation { return slices.Clone(v.list) }

// RouteError is a request the contract has no operation for: Allow lists
// the methods the path has (405), or is empty when no operation has the
// path (404).
type RouteError struct {
	Method, Path string
	Allow        []string
}

func (e *RouteError) Error() string {
	if len(e.Allow) > 0 {
		return fmt.Sprintf("validate: %s %s: method not allowed (allowed: %s)", e.Method, e.Path, strings.Join(e.Allow, ", "))
	}
	return fmt.Sprintf("validate: %s %s: the contract has no such path", e.Method, e.Path)
}

// Find routes method and path (a path as the contract writes its paths,
// without a server prefix, such as "/v1alpha/integrations") to its
// operation, and returns the path parameters by name. It returns a
// *RouteError when the contract has no operation for them.
func (v *Validator) Find(method, path string) (*Operation, map[string]string, error) {
	if op := v.static[[2]string{method, path}]; op != nil {
		return op, nil, nil
	}
	if route, params, ok := v.route(method, path); ok {
		return v.ops[route], params, nil
	}
	// kin-openapi tells a wrong method from an unknown path only for paths
	// without parameters: ask for every method to build Allow.
	re := &RouteError{Method: method, Path: path}
	for _, m := range routeMethods {
		if m == method {
			continue
		}
		if _, _, ok := v.route(m, path); ok {
			re.Allow = append(re.Allow, m)
		}
	}
	return nil, nil, re
}

// route asks kin-openapi's router, and holds its match to the path
// exactly: the router also matches "/items" to "/items/{id}" with an empty
// id, and "/items/" to "/items", which no gateway route would.
func (v *Validator) route(method, path string) (*routers.Route, map[string]string, bool) {
	route, params, err := v.router.FindRoute(probe(method, path))
	if err != nil || v.ops[route] == nil || strings.Count(route.Path, "/") != strings.Count(path, "/") {
		return nil, nil, false
	}
	for _, p := range params {
		if p == "" {
			return nil, nil, false
		}
	}
	return route, params, true
}

// Operation returns the operation the contract defines for method and path,
// which may be a concrete path of a templated one ("/v1alpha/items/42").
func (v *Validator) Operation(method, path string) (*Operation, error) {
	op, _, err := v.Find(method, path)
	return op, err
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
// and responses. It is immutable and safe for concurrent use.
type Operation struct {
	route    *routers.Route
	reqRoute *routers.Route // route without security requirements, for request validation
	reqOpts  *openapi3filter.Options
	respOpts *openapi3filter.Options
	probe    *http.Request // a request for the operation, for validating responses built without one
	query    []*openapi3.Parameter
	hasBody  bool
}

func (v *Validator) newOperation(route *routers.Route) *Operation {
	// Request validation checks what the request says, not who sent it:
	// the stub authenticates before it validates, so the route validated
	// against declares no security requirement (kin-openapi would
	// otherwise evaluate it on every request).
	reqOp := *route.Operation
	reqOp.Security = &openapi3.SecurityRequirements{}
	reqRoute := *route
	reqRoute.Operation = &reqOp
	op := &Operation{
		route:    route,
		reqRoute: &reqRoute,
		reqOpts: &openapi3filter.Options{
			SkipSettingDefaults:     true,
			SchemaValidationOptions: v.opts,
		},
		respOpts: &openapi3filter.Options{
			IncludeResponseStatus:   true,
			SchemaValidationOptions: v.opts,
		},
		probe:   probe(route.Method, samplePath(route.Path)),
		hasBody: route.Operation.RequestBody != nil,
	}
	seen := map[string]bool{}
	// Operation parameters override the path item's of the same name.
	for _, params := range []openapi3.Parameters{route.Operation.Parameters, route.PathItem.Parameters} {
		for _, p := range params {
			if p.Value != nil && p.Value.In == openapi3.ParameterInQuery && !seen[p.Value.Name] {
				seen[p.Value.Name] = true
				op.query = append(op.query, p.Value)
			}
		}
	}
	return op
}

// ID is the operation's operationId (for example "ListIntegrations").
func (o *Operation) ID() string { return o.route.Operation.OperationID }

// Method is the operation's HTTP method.
func (o *Operation) Method() string { return o.route.Method }

// Path is the operation's path as the contract writes it.
func (o *Operation) Path() string { return o.route.Path }

// QueryParameters are the query parameters the operation declares, its own
// before its path item's. The caller must not modify them.
func (o *Operation) QueryParameters() []*openapi3.Parameter { return o.query }

// ValidateRequest validates r, with the path parameters Find returned,
// against every parameter the operation declares, and its body when it
// declares one. It returns nil or an *rpcstatus.Error of code
// INVALID_ARGUMENT with a google.rpc.BadRequest detail naming the offending
// parameter.
//
// An operation without a request body never reads r's body: a verdict on
// such a request depends on its method, path, query and headers alone.
func (o *Operation) ValidateRequest(r *http.Request, pathParams map[string]string) error {
	if !o.hasBody && r.Body != nil && r.Body != http.NoBody {
		r2 := *r
		r2.Body = http.NoBody
		r2.ContentLength = 0
		r = &r2
	}
	input := &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: pathParams,
		Route:      o.reqRoute,
		Options:    o.reqOpts,
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
// headers and body. r is the request it answers (nil: a request for the
// operation). The error, if any, says on one line why the response breaks
// the contract, and wraps kin-openapi's error (an *openapi3.SchemaError
// names the field).
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
