package stub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/rpcstatus"
	"github.com/torqapi/integrations/internal/validate"
)

// snapshot is the data the stub serves, immutable once built: every 200
// body it can answer, encoded and validated when the data loaded.
type snapshot struct {
	all    *listBody
	byType map[string]*listBody
	empty  *listBody
	count  int
}

// listBody is one precomputed 200 answer of ListIntegrations. It is its own
// strict response object, so the handler answers without encoding anything.
type listBody struct {
	body          []byte
	contentLength []string
}

// Header values shared by every answer; net/http only reads them.
var jsonContentType = []string{"application/json"}

// VisitListIntegrationsResponse writes the precomputed bytes. They were
// validated against the contract when the data loaded, so they are marked
// prevalidated: nothing buffers or checks them again on the way out.
func (b *listBody) VisitListIntegrationsResponse(w http.ResponseWriter) error {
	validate.Prevalidated(w)
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = b.contentLength
	w.WriteHeader(http.StatusOK)
	// A failed write means the client is gone: the answer has started and
	// there is no one left to tell, so it is not reported as an error.
	_, _ = w.Write(b.body)
	return nil
}

// buildSnapshot encodes the full list, the list of each distinct type_id and
// the empty list, validating each body once against the contract's 200
// response. Order is the order of items.
func buildSnapshot(items []generated.Integration, op *validate.Operation) (*snapshot, error) {
	s := &snapshot{byType: make(map[string]*listBody), count: len(items)}
	var err error
	if s.all, err = encodeList(items, op, "the full list"); err != nil {
		return nil, err
	}
	if s.empty, err = encodeList(nil, op, "the empty list"); err != nil {
		return nil, err
	}
	groups := make(map[string][]generated.Integration)
	var order []string
	for _, it := range items {
		if _, ok := groups[it.TypeID]; !ok {
			order = append(order, it.TypeID)
		}
		groups[it.TypeID] = append(groups[it.TypeID], it)
	}
	for _, typeID := range order {
		if typeID == "" {
			// An empty type_id is refused before the handler runs; an item
			// without one is only in the full list.
			continue
		}
		if s.byType[typeID], err = encodeList(groups[typeID], op, "type_id "+strconv.Quote(typeID)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func encodeList(items []generated.Integration, op *validate.Operation, what string) (*listBody, error) {
	if items == nil {
		items = []generated.Integration{}
	}
	var buf bytes.Buffer
	// The same encoding as the generated ListIntegrations200JSONResponse.
	if err := json.NewEncoder(&buf).Encode(generated.IntegrationList{Integrations: items}); err != nil {
		return nil, fmt.Errorf("encode %s: %w", what, err)
	}
	body := buf.Bytes()
	if err := op.ValidateResponse(nil, http.StatusOK, http.Header{"Content-Type": jsonContentType}, body); err != nil {
		return nil, fmt.Errorf("%s breaks the contract: %w", what, err)
	}
	return &listBody{body: body, contentLength: []string{strconv.Itoa(len(body))}}, nil
}

// server implements the generated strict server interface over the stub's
// snapshot.
type server struct{ stub *Stub }

var _ generated.StrictServerInterface = (*server)(nil)

// ListIntegrations answers GET /v1alpha/integrations from the snapshot: the
// full list, the list of one type_id, or the empty list for a type_id that
// no integration has (an exact match, as Torq filters).
func (sv *server) ListIntegrations(_ context.Context, req generated.ListIntegrationsRequestObject) (generated.ListIntegrationsResponseObject, error) {
	snap := sv.stub.data.Load()
	if req.Params.TypeID == "" {
		return snap.all, nil
	}
	if b, ok := snap.byType[req.Params.TypeID]; ok {
		return b, nil
	}
	return snap.empty, nil
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
