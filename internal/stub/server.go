package stub

import (
	"context"
	"errors"
	"net/http"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/auth"
	"github.com/torqapi/integrations/internal/rpcstatus"
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

// apiHandler is the generated handler of every operation of the contract:
// the generated parameter binding and strict handler over the stub's data,
// served under Torq's /public base path and under /. Both of its error
// handlers write a google.rpc.Status. It runs after request validation, so
// binding errors are not expected; they are answered all the same.
func (s *Stub) apiHandler() http.Handler {
	strict := generated.NewStrictHandlerWithOptions(&server{stub: s}, nil, generated.StrictHTTPServerOptions{
		RequestErrorHandlerFunc: func(w http.ResponseWriter, _ *http.Request, err error) {
			rpcstatus.Write(w, invalidParam("request", err))
		},
		ResponseErrorHandlerFunc: s.handlerError,
	})
	mux := http.NewServeMux()
	for _, base := range []string{"", publicPrefix} {
		generated.HandlerWithOptions(strict, generated.StdHTTPServerOptions{
			BaseURL:    base,
			BaseRouter: mux,
			ErrorHandlerFunc: func(w http.ResponseWriter, _ *http.Request, err error) {
				field := "request"
				var pe *generated.InvalidParamFormatError
				if errors.As(err, &pe) {
					field = pe.ParamName
				}
				rpcstatus.Write(w, invalidParam(field, err))
			},
		})
	}
	return mux
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
