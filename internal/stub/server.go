package stub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/auth"
	"github.com/torqapi/integrations/internal/rpcstatus"
	"github.com/torqapi/integrations/internal/validate"
	"github.com/torqapi/integrations/internal/workspace"
)

// server implements the generated strict server interface over the
// workspaces' snapshots.
type server struct{ stub *Stub }

var _ generated.StrictServerInterface = (*server)(nil)

// ListIntegrations answers GET /v1alpha/integrations from the snapshot of
// the request's workspace: the
// full list, the list of one type_id, or the empty list for a type_id that
// no integration has (an exact match, as Torq filters).
func (sv *server) ListIntegrations(ctx context.Context, req generated.ListIntegrationsRequestObject) (generated.ListIntegrationsResponseObject, error) {
	ws := workspaceFrom(ctx)
	if ws == nil {
		// Unreachable through the chain, which authenticates first.
		return nil, rpcstatus.Errorf(rpcstatus.Unauthenticated, "%s", auth.MsgUnauthenticated)
	}
	return ws.Snapshot().List(req.Params.TypeID), nil
}

// wsKey is the context key of the workspace a request acts for.
type wsKey struct{}

// withWorkspace gives the strict handler, which sees only a context, the
// workspace the request's credentials act for.
func withWorkspace(r *http.Request, ws *workspace.Workspace) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), wsKey{}, ws))
}

func workspaceFrom(ctx context.Context) *workspace.Workspace {
	ws, _ := ctx.Value(wsKey{}).(*workspace.Workspace)
	return ws
}

// operationHandlers are the generated handlers of every operation of the
// contract, by operation: the generated parameter binding
// (ServerInterfaceWrapper) and strict handler over the stub's data. The
// stub's chain has routed the request with the contract's router already,
// so it calls the operation's wrapper method directly rather than routing
// a second time through a ServeMux; path parameters reach the wrapper as
// r.PathValue, as the generated code reads them. Every operation must have
// its method (the generated code and the contract come from the same
// file; check-generated keeps them so): one missing is an error here.
func (s *Stub) operationHandlers(ops []*validate.Operation) (map[*validate.Operation]http.HandlerFunc, error) {
	strict := generated.NewStrictHandlerWithOptions(&server{stub: s}, nil, generated.StrictHTTPServerOptions{
		RequestErrorHandlerFunc: func(w http.ResponseWriter, _ *http.Request, err error) {
			rpcstatus.Write(w, invalidParam("request", err))
		},
		ResponseErrorHandlerFunc: s.handlerError,
	})
	wrapper := &generated.ServerInterfaceWrapper{
		Handler: strict,
		ErrorHandlerFunc: func(w http.ResponseWriter, _ *http.Request, err error) {
			field := "request"
			var pe *generated.InvalidParamFormatError
			if errors.As(err, &pe) {
				field = pe.ParamName
			}
			rpcstatus.Write(w, invalidParam(field, err))
		},
	}
	// The method expressions, not bound method values: a method value made
	// by reflect allocates on every call.
	typ := reflect.TypeOf(wrapper)
	out := make(map[*validate.Operation]http.HandlerFunc, len(ops))
	for _, op := range ops {
		id := op.ID()
		m, ok := typ.MethodByName(id)
		if !ok && id != "" {
			// oapi-codegen names the method after the operationId, first
			// letter upper-cased.
			m, ok = typ.MethodByName(strings.ToUpper(id[:1]) + id[1:])
		}
		var f func(*generated.ServerInterfaceWrapper, http.ResponseWriter, *http.Request)
		if ok {
			f, ok = m.Func.Interface().(func(*generated.ServerInterfaceWrapper, http.ResponseWriter, *http.Request))
		}
		if !ok {
			return nil, fmt.Errorf("the generated server has no handler for operation %q (%s %s): run make generate", id, op.Method(), op.Path())
		}
		out[op] = func(w http.ResponseWriter, r *http.Request) { f(wrapper, w, r) }
	}
	return out, nil
}

// handlerError answers an error a strict method returned: an
// *rpcstatus.Error as it is, any other error as 500 INTERNAL without its
// text (rpcstatus.Write), logged.
func (s *Stub) handlerError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.LogAttrs(r.Context(), errorLevel, "handler error", requestIDAttr(w), errAttr(err))
	rpcstatus.Write(w, err)
}

// invalidParam is INVALID_ARGUMENT with a BadRequest naming field.
func invalidParam(field string, err error) *rpcstatus.Error {
	desc := err.Error()
	return rpcstatus.Errorf(rpcstatus.InvalidArgument, "%s: %s", field, desc).
		WithDetails(rpcstatus.BadRequest(rpcstatus.FieldViolation{Field: field, Description: desc}))
}
