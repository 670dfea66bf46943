package control

import (
	"fmt"
	"strconv"

	"github.com/torqapi/integrations/internal/rpcstatus"
)

// FieldViolation is one entry of a google.rpc.BadRequest: the field, as a
// path into the request ("steps[1].delay", "integrations[2].id", "limit"),
// and why its value is refused.
type FieldViolation = rpcstatus.FieldViolation

// Error is an error a Backend returns for the handler to put on the wire
// with its gRPC code: NOT_FOUND is 404, ALREADY_EXISTS 409, INVALID_ARGUMENT
// 400 with a google.rpc.BadRequest listing Violations. Build one with
// NotFound, AlreadyExists, Invalid or InvalidFields; any other error a
// Backend returns is answered 500 INTERNAL, its text logged and never sent.
type Error struct {
	// Code is the gRPC status code.
	Code rpcstatus.Code
	// Message is the google.rpc.Status message; it is sent to the client.
	Message string
	// Violations are the fields at fault (INVALID_ARGUMENT only).
	Violations []FieldViolation
}

// Error returns "CODE: message", as rpcstatus.Error does.
func (e *Error) Error() string { return e.Code.String() + ": " + e.Message }

// NotFound is the error for a missing resource: kind is what is missing
// ("workspace", "script") and id its id, as the client gave it.
func NotFound(kind, id string) *Error {
	return &Error{Code: rpcstatus.NotFound, Message: fmt.Sprintf("%s %q not found", kind, id)}
}

// AlreadyExists is the error for a resource created twice, such as a
// workspace with the id of an existing one.
func AlreadyExists(kind, id string) *Error {
	return &Error{Code: rpcstatus.AlreadyExists, Message: fmt.Sprintf("%s %q already exists", kind, id)}
}

// Invalid is the error for one bad field: INVALID_ARGUMENT with a
// BadRequest naming it.
func Invalid(field, description string) *Error {
	return InvalidFields(FieldViolation{Field: field, Description: description})
}

// InvalidFields is the error for a request with one or more bad fields,
// all of which the BadRequest lists. The message names the first, and how
// many more there are. It panics when given no violation, which is a bug of
// the caller.
func InvalidFields(violations ...FieldViolation) *Error {
	if len(violations) == 0 {
		panic("control.InvalidFields: no violation")
	}
	msg := violations[0].Field + ": " + violations[0].Description
	if n := len(violations) - 1; n > 0 {
		msg += " (and " + strconv.Itoa(n) + " more)"
	}
	return &Error{Code: rpcstatus.InvalidArgument, Message: msg, Violations: append([]FieldViolation(nil), violations...)}
}

// status is e's wire form.
func (e *Error) status() *rpcstatus.Error {
	s := rpcstatus.Errorf(e.Code, "%s", e.Message)
	if len(e.Violations) > 0 {
		s = s.WithDetails(rpcstatus.BadRequest(e.Violations...))
	}
	return s
}
