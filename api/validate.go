package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/torqapi/integrations/internal/contract"
	"github.com/torqapi/integrations/internal/validate"
)

// validateTransport holds every response against the embedded contract,
// with the same validator the stub uses. Redirects (handled by the auth
// layer) and error pages that are not JSON (a proxy's, not the API's) are
// let through: they become *Error values.
type validateTransport struct {
	next http.RoundTripper
	op   *validate.Operation
}

// listPath is the contract's path of the one operation the client calls.
const listPath = "/v1alpha/integrations"

func newValidateTransport(next http.RoundTripper) (*validateTransport, error) {
	doc, err := contract.Load()
	if err != nil {
		return nil, fmt.Errorf("api: WithResponseValidation: %w", err)
	}
	v, err := validate.New(doc)
	if err != nil {
		return nil, fmt.Errorf("api: WithResponseValidation: %w", err)
	}
	op, err := v.Operation(http.MethodGet, listPath)
	if err != nil {
		return nil, fmt.Errorf("api: WithResponseValidation: %w", err)
	}
	return &validateTransport{next: next, op: op}, nil
}

func (t *validateTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || isRedirect(resp.StatusCode) {
		return resp, err
	}
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if !ok && !isJSON(resp.Header.Get("Content-Type")) {
		return resp, nil
	}
	var body []byte
	if ok {
		if body, err = readBody(resp.Body, MaxResponseBodyBytes); err != nil {
			return nil, err
		}
	} else {
		body, _ = readErrorBody(resp.Body)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if verr := t.op.ValidateResponse(req, resp.StatusCode, resp.Header, body); verr != nil {
		return nil, contractError(resp.StatusCode, verr)
	}
	return resp, nil
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// contractError names the offending field of a validation failure; the
// offending value is left out (it is the server's data, and may be large).
func contractError(status int, err error) *ContractError {
	ce := &ContractError{HTTPStatus: status}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		ce.Field = strings.Join(se.JSONPointer(), ".")
		ce.Reason = se.Reason
		if ce.Reason == "" {
			ce.Reason = fmt.Sprintf("does not match schema %q", se.SchemaField)
		}
		return ce
	}
	var re *openapi3filter.ResponseError
	if errors.As(err, &re) {
		ce.Reason = re.Reason
		if ce.Reason == "" && re.Err != nil {
			ce.Reason = re.Err.Error()
		}
		return ce
	}
	ce.Reason = err.Error()
	return ce
}
