package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	gencontrol "github.com/torqapi/integrations/generated/control"
	"github.com/torqapi/integrations/internal/rpcstatus"
)

// Prefix is the path under which the control API lives; every path of the
// contract starts with it.
const Prefix = "/__stub/"

// DefaultMaxBodyBytes bounds a request body when Options.MaxBodyBytes is
// not set: room for tens of thousands of integrations.
const DefaultMaxBodyBytes = 32 << 20

// Options configure NewHandler. The zero value is ready to use.
type Options struct {
	// MaxBodyBytes bounds a request body; a longer one is 400 naming
	// "body". 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives the errors answered 500 INTERNAL (a Backend's
	// untyped errors), whose text is never sent. The log line has the
	// method, the path and the error's text, so a Backend's errors must
	// carry no token or secret. nil discards them.
	Logger *slog.Logger
}

// Load parses and validates the embedded contract, control.yaml, for
// routing and validation. Tests use it to check answers against the same
// document the handler serves.
func Load() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(Contract)
	if err != nil {
		return nil, fmt.Errorf("control: load control.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("control: control.yaml is invalid: %w", err)
	}
	return doc, nil
}

// sharedRouter parses the contract and builds its router once per process:
// both are immutable once built, and every stub (api/apitest makes one per
// test) shares them instead of parsing control.yaml again.
var sharedRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := Load()
	if err != nil {
		return nil, err
	}
	// The servers' URL names where the stub usually runs; routing is by
	// path alone, on whatever address the stub listens.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("control: build router: %w", err)
	}
	return router, nil
})

// NewHandler returns the control API over backend: every route of
// control.yaml under Prefix, each request routed and validated against the
// contract before the backend sees it. An unknown path is 404 NOT_FOUND, a
// wrong method 405 with Allow, a bad parameter or body 400
// INVALID_ARGUMENT with a BadRequest naming the field; every error is a
// google.rpc.Status written by rpcstatus.Write.
func NewHandler(backend Backend, opts Options) (http.Handler, error) {
	if backend == nil {
		return nil, errors.New("control: NewHandler needs a Backend")
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	router, err := sharedRouter()
	if err != nil {
		return nil, err
	}
	h := &handler{
		router: router,
		opts:   opts,
		validation: &openapi3filter.Options{
			MultiError:          true,
			SkipSettingDefaults: true,
		},
	}
	srv := &server{backend: backend}
	strict := gencontrol.NewStrictHandlerWithOptions(srv, nil, gencontrol.StrictHTTPServerOptions{
		// Validation ran before; a body that still fails to decode (a
		// number too large for its Go type) is the client's.
		RequestErrorHandlerFunc: func(w http.ResponseWriter, _ *http.Request, err error) {
			rpcstatus.Write(w, Invalid("body", err.Error()).status())
		},
		ResponseErrorHandlerFunc: h.writeError,
	})
	mux := http.NewServeMux()
	// The generated patterns serve what the router let through; this one
	// keeps any request that slips past both a google.rpc.Status.
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { rpcstatus.Write(w, errNotFound) })
	h.mux = gencontrol.HandlerWithOptions(strict, gencontrol.StdHTTPServerOptions{
		BaseRouter: mux,
		ErrorHandlerFunc: func(w http.ResponseWriter, _ *http.Request, err error) {
			field := "request"
			var pe *gencontrol.InvalidParamFormatError
			if errors.As(err, &pe) {
				field = pe.ParamName
			}
			rpcstatus.Write(w, Invalid(field, err.Error()).status())
		},
	})
	return h, nil
}

// handler routes and validates by the contract, then hands the request to
// the generated server.
type handler struct {
	router     routers.Router
	mux        http.Handler
	opts       Options
	validation *openapi3filter.Options
}

var errNotFound = &rpcstatus.Error{Code: rpcstatus.NotFound, Message: "Not Found"}

// probeMethods are the methods tried to build a 405's Allow header.
var probeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; !strings.HasPrefix(p, Prefix) || strings.HasSuffix(p, "/") || path.Clean(p) != p {
		// Only the contract's paths, as written: none ends with a slash,
		// none has "." or ".." segments.
		rpcstatus.Write(w, errNotFound)
		return
	}
	route, pathParams, err := h.router.FindRoute(r)
	if err != nil {
		if errors.Is(err, routers.ErrMethodNotAllowed) {
			h.methodNotAllowed(w, r)
			return
		}
		rpcstatus.Write(w, errNotFound)
		return
	}
	if e := checkQuery(route, r.URL.RawQuery); e != nil {
		rpcstatus.Write(w, e.status())
		return
	}
	if route.Operation.RequestBody != nil {
		if e := h.readBody(r); e != nil {
			rpcstatus.Write(w, e.status())
			return
		}
	}
	input := &openapi3filter.RequestValidationInput{Request: r, PathParams: pathParams, Route: route, Options: h.validation}
	if err := openapi3filter.ValidateRequest(r.Context(), input); err != nil {
		rpcstatus.Write(w, requestViolations(err).status())
		return
	}
	h.mux.ServeHTTP(w, r)
}

// methodNotAllowed answers a known path with a method it does not serve:
// code 12 as HTTP 405, with the methods it serves in Allow, as the stub
// answers on Torq's routes.
func (h *handler) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range probeMethods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, _, err := h.router.FindRoute(probe); err == nil {
			allow = append(allow, m)
		}
	}
	rpcstatus.Write(w, &rpcstatus.Error{
		Code:       rpcstatus.Unimplemented,
		Message:    "Method Not Allowed",
		HTTPStatus: http.StatusMethodNotAllowed,
		Header:     http.Header{"Allow": {strings.Join(allow, ", ")}},
	})
}

// checkQuery refuses query parameters the operation does not declare and
// repeated ones: kin-openapi ignores the first and reads the first of the
// second, and a typo in `DELETE /__stub/requests?workspce=ws1` would
// otherwise clear every workspace's entries.
func checkQuery(route *routers.Route, rawQuery string) *Error {
	if rawQuery == "" {
		return nil
	}
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return Invalid("query", "the query string is malformed: "+err.Error())
	}
	declared := map[string]bool{}
	for _, params := range []openapi3.Parameters{route.PathItem.Parameters, route.Operation.Parameters} {
		for _, p := range params {
			if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
				declared[p.Value.Name] = true
			}
		}
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	var v violations
	for _, name := range names {
		switch {
		case !declared[name]:
			v.add(name, "unknown query parameter"+knownParams(declared))
		case len(values[name]) > 1:
			v.add(name, "given "+strconv.Itoa(len(values[name]))+" times; give it once")
		}
	}
	if len(v) > 0 {
		return InvalidFields(v...)
	}
	return nil
}

func knownParams(declared map[string]bool) string {
	if len(declared) == 0 {
		return "; this route takes none"
	}
	names := make([]string, 0, len(declared))
	for n := range declared {
		names = append(names, n)
	}
	sort.Strings(names)
	return "; this route takes " + strings.Join(names, ", ")
}

// readBody reads the body, bounded, so that validation and the generated
// server can both read it, and takes a body without Content-Type or sent
// as a form (curl -d's default) as the JSON it is.
func (h *handler) readBody(r *http.Request) *Error {
	if ct := r.Header.Get("Content-Type"); ct == "" || isForm(ct) {
		r.Header.Set("Content-Type", "application/json")
	} else if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return Invalid("Content-Type", fmt.Sprintf("%q: the control API takes application/json", ct))
	}
	if r.Body == nil {
		r.Body = http.NoBody
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.opts.MaxBodyBytes+1))
	if err != nil {
		return Invalid("body", "the body could not be read")
	}
	if int64(len(body)) > h.opts.MaxBodyBytes {
		return Invalid("body", fmt.Sprintf("larger than %d bytes", h.opts.MaxBodyBytes))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return Invalid("body", "a JSON body is required")
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return nil
}

func isForm(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// requestViolations turns kin-openapi's verdict on a request into
// INVALID_ARGUMENT with a field violation for each fault, the field named
// as the client wrote it: "limit", "id", "steps[1].delay".
func requestViolations(err error) *Error {
	var v violations
	collectRequest(&v, err)
	if len(v) == 0 {
		v.add("request", oneLine(err.Error()))
	}
	return InvalidFields(dedupe(v)...)
}

func collectRequest(v *violations, err error) {
	// A type switch, not errors.As: a RequestError unwraps to its schema
	// errors, which errors.As would take for the list of requests' errors.
	var re *openapi3filter.RequestError
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, inner := range e {
			collectRequest(v, inner)
		}
		return
	case *openapi3filter.RequestError:
		re = e
	default:
		if !errors.As(err, &re) {
			v.add("request", oneLine(err.Error()))
			return
		}
	}
	if re.Parameter != nil {
		desc := re.Reason
		if re.Err != nil {
			desc = describe(re.Err)
		}
		v.add(re.Parameter.Name, desc)
		return
	}
	// The body.
	if re.Err == nil {
		v.add("body", oneLine(re.Reason))
		return
	}
	before := len(*v)
	collectSchema(v, re.Err)
	if len(*v) == before {
		v.add("body", describe(re.Err))
	}
}

// collectSchema adds a violation for each schema error in err, named by its
// JSON pointer into the body.
func collectSchema(v *violations, err error) {
	var se *openapi3.SchemaError
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, inner := range e {
			collectSchema(v, inner)
		}
		return
	case *openapi3.SchemaError:
		se = e
	default:
		if !errors.As(err, &se) {
			return
		}
	}
	field := fieldPath(se.JSONPointer())
	reason := se.Reason
	// additionalProperties: false and required name the property in the
	// reason; the violation names the property itself.
	if name, ok := quotedProperty(reason, " is unsupported"); ok {
		field, reason = join(field, name), "unknown field"
	} else if name, ok := quotedProperty(reason, " is missing"); ok {
		field, reason = join(field, name), "required"
	}
	if field == "" {
		field = "body"
	}
	v.add(field, oneLine(reason))
}

// quotedProperty reads `property "name"` + suffix, kin-openapi's wording.
func quotedProperty(reason, suffix string) (string, bool) {
	rest, ok := strings.CutPrefix(reason, "property ")
	if !ok || !strings.HasSuffix(rest, suffix) {
		return "", false
	}
	name, err := strconv.Unquote(strings.TrimSuffix(rest, suffix))
	if err != nil {
		return "", false
	}
	return name, true
}

// fieldPath writes a JSON pointer's tokens as a field path: indices in
// brackets, names joined with dots ("steps[1].delay").
func fieldPath(tokens []string) string {
	var sb strings.Builder
	for _, t := range tokens {
		if isIndex(t) {
			sb.WriteString("[" + t + "]")
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(t)
	}
	return sb.String()
}

// join adds a property name to a field path, unless kin-openapi has
// already put it there (it does for a missing property, not for an
// unsupported one).
func join(path, name string) string {
	switch {
	case path == "":
		return name
	case path == name || strings.HasSuffix(path, "."+name):
		return path
	}
	return path + "." + name
}

func isIndex(t string) bool {
	if t == "" {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return false
		}
	}
	return true
}

// describe is the most specific reason of a kin-openapi error.
func describe(err error) string {
	var se *openapi3.SchemaError
	if errors.As(err, &se) && se.Reason != "" {
		return oneLine(se.Reason)
	}
	var pe *openapi3filter.ParseError
	if errors.As(err, &pe) && pe.Reason != "" {
		return oneLine(pe.Reason)
	}
	return oneLine(err.Error())
}

func dedupe(v violations) violations {
	seen := make(map[FieldViolation]bool, len(v))
	out := v[:0]
	for _, fv := range v {
		if !seen[fv] {
			seen[fv] = true
			out = append(out, fv)
		}
	}
	return out
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// writeError writes an error a strict method returned: an *Error or an
// *rpcstatus.Error as it says, anything else as 500 INTERNAL, logged.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ce *Error
	if errors.As(err, &ce) {
		rpcstatus.Write(w, ce.status())
		return
	}
	var re *rpcstatus.Error
	if errors.As(err, &re) {
		rpcstatus.Write(w, re)
		return
	}
	h.opts.Logger.LogAttrs(r.Context(), slog.LevelError, "control API: internal error",
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
	rpcstatus.Write(w, &rpcstatus.Error{Code: rpcstatus.Internal, Message: "Internal error."})
}

// server implements the generated strict server over a Backend.
type server struct {
	backend Backend
}

var _ gencontrol.StrictServerInterface = (*server)(nil)

func (s *server) GetControlContract(context.Context, gencontrol.GetControlContractRequestObject) (gencontrol.GetControlContractResponseObject, error) {
	return gencontrol.GetControlContract200ApplicationYamlResponse{Body: bytes.NewReader(Contract), ContentLength: int64(len(Contract))}, nil
}

// deref is an optional parameter's value, its zero value when absent.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func (s *server) ClearRequests(ctx context.Context, req gencontrol.ClearRequestsRequestObject) (gencontrol.ClearRequestsResponseObject, error) {
	s.backend.ClearRequests(ctx, deref(req.Params.Workspace))
	return gencontrol.ClearRequests204Response{}, nil
}

func (s *server) ListRequests(ctx context.Context, req gencontrol.ListRequestsRequestObject) (gencontrol.ListRequestsResponseObject, error) {
	entries := s.backend.Requests(ctx, deref(req.Params.Workspace), int(deref(req.Params.Limit)))
	out := gencontrol.ListRequests200JSONResponse{Requests: make([]gencontrol.RequestEntry, len(entries))}
	for i, e := range entries {
		we := gencontrol.RequestEntry{
			ID:         int64(e.ID),
			Time:       e.Time.UTC(),
			Method:     e.Method,
			Path:       e.Path,
			Query:      e.Query,
			Status:     int32(e.Status),
			Workspace:  e.Workspace,
			RequestID:  e.RequestID,
			Warnings:   nonNil(e.Warnings),
			Violations: nonNil(e.Violations),
			Script:     e.Script,
		}
		if e.Script != "" {
			step := int32(e.Step)
			we.Step = &step
		}
		out.Requests[i] = we
	}
	return out, nil
}

func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

func (s *server) Reset(ctx context.Context, _ gencontrol.ResetRequestObject) (gencontrol.ResetResponseObject, error) {
	if err := s.backend.Reset(ctx); err != nil {
		return nil, err
	}
	return gencontrol.Reset204Response{}, nil
}

func (s *server) DeleteScripts(ctx context.Context, _ gencontrol.DeleteScriptsRequestObject) (gencontrol.DeleteScriptsResponseObject, error) {
	s.backend.DeleteScripts(ctx)
	return gencontrol.DeleteScripts204Response{}, nil
}

func (s *server) ListScripts(ctx context.Context, _ gencontrol.ListScriptsRequestObject) (gencontrol.ListScriptsResponseObject, error) {
	scripts := s.backend.Scripts(ctx)
	out := gencontrol.ListScripts200JSONResponse{Scripts: make([]gencontrol.ScriptState, len(scripts))}
	for i, st := range scripts {
		steps := make([]gencontrol.Step, len(st.Steps))
		for k, step := range st.Steps {
			steps[k] = wireStep(step)
		}
		out.Scripts[i] = gencontrol.ScriptState{
			ID: st.ID, Workspace: st.Workspace, Token: st.Token, Query: st.Query, StepsLeft: steps, Repeat: st.Repeat,
		}
	}
	return out, nil
}

func (s *server) CreateScript(ctx context.Context, req gencontrol.CreateScriptRequestObject) (gencontrol.CreateScriptResponseObject, error) {
	script, err := ParseScript(*req.Body)
	if err != nil {
		return nil, err
	}
	id, err := s.backend.CreateScript(ctx, script)
	if err != nil {
		return nil, err
	}
	return gencontrol.CreateScript201JSONResponse{ID: id}, nil
}

func (s *server) DeleteScript(ctx context.Context, req gencontrol.DeleteScriptRequestObject) (gencontrol.DeleteScriptResponseObject, error) {
	if err := s.backend.DeleteScript(ctx, req.ID); err != nil {
		return nil, err
	}
	return gencontrol.DeleteScript204Response{}, nil
}

func (s *server) ListWorkspaces(ctx context.Context, _ gencontrol.ListWorkspacesRequestObject) (gencontrol.ListWorkspacesResponseObject, error) {
	list := s.backend.Workspaces(ctx)
	out := gencontrol.ListWorkspaces200JSONResponse{Workspaces: make([]gencontrol.WorkspaceSummary, len(list))}
	for i, ws := range list {
		out.Workspaces[i] = gencontrol.WorkspaceSummary{ID: ws.ID, Integrations: int32(ws.Integrations)}
	}
	return out, nil
}

func (s *server) CreateWorkspace(ctx context.Context, req gencontrol.CreateWorkspaceRequestObject) (gencontrol.CreateWorkspaceResponseObject, error) {
	creds, err := s.backend.CreateWorkspace(ctx, req.Body.ID, req.Body.Integrations)
	if err != nil {
		return nil, err
	}
	return gencontrol.CreateWorkspace201JSONResponse{ID: creds.ID, Token: creds.Token, ClientID: creds.ClientID, ClientSecret: creds.ClientSecret}, nil
}

func (s *server) DeleteWorkspace(ctx context.Context, req gencontrol.DeleteWorkspaceRequestObject) (gencontrol.DeleteWorkspaceResponseObject, error) {
	if err := s.backend.DeleteWorkspace(ctx, req.ID); err != nil {
		return nil, err
	}
	return gencontrol.DeleteWorkspace204Response{}, nil
}

func (s *server) GetIntegrations(ctx context.Context, req gencontrol.GetIntegrationsRequestObject) (gencontrol.GetIntegrationsResponseObject, error) {
	list, err := s.backend.Integrations(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []json.RawMessage{}
	}
	return gencontrol.GetIntegrations200JSONResponse{Integrations: list}, nil
}

func (s *server) ReplaceIntegrations(ctx context.Context, req gencontrol.ReplaceIntegrationsRequestObject) (gencontrol.ReplaceIntegrationsResponseObject, error) {
	n, err := s.backend.ReplaceIntegrations(ctx, req.ID, req.Body.Integrations)
	if err != nil {
		return nil, err
	}
	return gencontrol.ReplaceIntegrations200JSONResponse{Integrations: int32(n)}, nil
}
