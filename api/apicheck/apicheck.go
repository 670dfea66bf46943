// Package apicheck holds the answers an api.Client receives against the
// project's contract (openapi.yaml, embedded), with the validator the stub
// uses. It is how a program learns that Torq's API changed under it.
//
// It is apart from package api so that a program importing api alone does
// not link the schema validator (kin-openapi): only a program that asks for
// the check pays for it.
//
//	chk, err := apicheck.New()                          // strict: a violation fails the call
//	chk, err := apicheck.New(apicheck.Report(logIt))    // report: the call succeeds, logIt hears of it
//	c, err := api.NewClient(api.WithClientCredentials(id, secret), chk.Option())
//
// Each answer is checked against the operation its request was routed to
// (method, and path relative to the client's base URL). Strict mode fails a
// call whose answer breaks the contract with an *api.ContractError naming
// the field; report mode hands that error to a callback and lets the call
// return its data, so that, for example, a new enum value from Torq is
// noticed without turning a working integration into an outage.
package apicheck

import (
	"errors"
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/torqapi/integrations/api"
	"github.com/torqapi/integrations/internal/contract"
	"github.com/torqapi/integrations/internal/validate"
)

// Checker checks answers against the contract. It is safe for concurrent
// use; build one per program and share it between clients.
type Checker struct {
	v      *validate.Validator
	report func(*api.ContractError)
}

// Option configures a Checker.
type Option func(*Checker)

// Report switches the checker to report mode: f is called (possibly
// concurrently) with each violation and the call goes on with the answer as
// if it had been valid. Without Report the checker is strict.
func Report(f func(*api.ContractError)) Option {
	return func(c *Checker) { c.report = f }
}

// New loads the embedded contract and returns a checker, strict unless
// Report says otherwise.
func New(opts ...Option) (*Checker, error) {
	doc, err := contract.Load()
	if err != nil {
		return nil, fmt.Errorf("apicheck: %w", err)
	}
	v, err := validate.New(doc)
	if err != nil {
		return nil, fmt.Errorf("apicheck: %w", err)
	}
	c := &Checker{v: v}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	return c, nil
}

// Option returns the client option that installs the checker:
// api.WithResponseCheck(c.Check).
func (c *Checker) Option() api.Option { return api.WithResponseCheck(c.Check) }

// Check is an api.ResponseCheck: it validates r against the operation of
// r.Request's method and r.Path. In strict mode a violation is returned as
// an *api.ContractError; in report mode it is reported and Check returns
// nil.
func (c *Checker) Check(r *api.CheckedResponse) error {
	ce := c.violation(r)
	if ce == nil {
		return nil
	}
	if c.report != nil {
		c.report(ce)
		return nil
	}
	return ce
}

func (c *Checker) violation(r *api.CheckedResponse) *api.ContractError {
	op, err := c.v.Operation(r.Request.Method, r.Path)
	if err != nil {
		return &api.ContractError{Method: r.Request.Method, Path: r.Path, HTTPStatus: r.StatusCode,
			Reason: "the contract has no operation " + r.Request.Method + " " + r.Path}
	}
	if err := op.ValidateResponse(r.Request, r.StatusCode, r.Header, r.Body); err != nil {
		ce := contractError(r.StatusCode, err)
		ce.Method, ce.Path = r.Request.Method, r.Path
		return ce
	}
	return nil
}

// contractError names the offending field of a validation failure; the
// offending value is left out (it is the server's data, and may be large).
func contractError(status int, err error) *api.ContractError {
	ce := &api.ContractError{HTTPStatus: status}
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
