// Package rpcstatus is the stub's one way to put an error on the wire: a
// google.rpc.Status JSON body whose HTTP status comes from grpc-gateway's
// code table (runtime.HTTPStatusFromCode), with `details` always present.
//
// Every layer (auth, routing, validation, the handler, panics) builds an
// *Error and hands it to Write; nothing else writes an error body.
package rpcstatus

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/torqapi/integrations/generated"
)

// Code is a gRPC status code (google.rpc.Code).
type Code int32

// The 17 gRPC status codes.
const (
	OK                 Code = 0
	Canceled           Code = 1
	Unknown            Code = 2
	InvalidArgument    Code = 3
	DeadlineExceeded   Code = 4
	NotFound           Code = 5
	AlreadyExists      Code = 6
	PermissionDenied   Code = 7
	ResourceExhausted  Code = 8
	FailedPrecondition Code = 9
	Aborted            Code = 10
	OutOfRange         Code = 11
	Unimplemented      Code = 12
	Internal           Code = 13
	Unavailable        Code = 14
	DataLoss           Code = 15
	Unauthenticated    Code = 16
)

var codeNames = [...]string{
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
	"NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
	"FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
	"INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
}

// String returns the code's canonical name, such as "PERMISSION_DENIED", or
// "CODE(42)" for a code outside the 17.
func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "CODE(" + strconv.Itoa(int(c)) + ")"
}

// HTTPStatus maps a gRPC code to an HTTP status exactly as grpc-gateway's
// runtime.HTTPStatusFromCode does; unknown codes are 500.
func (c Code) HTTPStatus() int {
	switch c {
	case OK:
		return http.StatusOK
	case Canceled:
		return 499
	case Unknown, Internal, DataLoss:
		return http.StatusInternalServerError
	case InvalidArgument, FailedPrecondition, OutOfRange:
		return http.StatusBadRequest
	case DeadlineExceeded:
		return http.StatusGatewayTimeout
	case NotFound:
		return http.StatusNotFound
	case AlreadyExists, Aborted:
		return http.StatusConflict
	case PermissionDenied:
		return http.StatusForbidden
	case ResourceExhausted:
		return http.StatusTooManyRequests
	case Unimplemented:
		return http.StatusNotImplemented
	case Unavailable:
		return http.StatusServiceUnavailable
	case Unauthenticated:
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// CodeForHTTPStatus is the inverse of HTTPStatus, for bodies that carry no
// code (a proxy's HTML page) and for choosing a code to force: where several
// codes share a status it returns the one grpc-gateway services most often
// mean (400 INVALID_ARGUMENT, 409 ABORTED, 500 INTERNAL). Statuses no code
// maps to give ok=false.
func CodeForHTTPStatus(status int) (c Code, ok bool) {
	switch status {
	case http.StatusOK:
		return OK, true
	case 499:
		return Canceled, true
	case http.StatusBadRequest:
		return InvalidArgument, true
	case http.StatusUnauthorized:
		return Unauthenticated, true
	case http.StatusForbidden:
		return PermissionDenied, true
	case http.StatusNotFound:
		return NotFound, true
	case http.StatusConflict:
		return Aborted, true
	case http.StatusTooManyRequests:
		return ResourceExhausted, true
	case http.StatusInternalServerError:
		return Internal, true
	case http.StatusNotImplemented:
		return Unimplemented, true
	case http.StatusServiceUnavailable:
		return Unavailable, true
	case http.StatusGatewayTimeout:
		return DeadlineExceeded, true
	}
	return Unknown, false
}

// Error is an error that knows its wire form: a google.rpc.Status and any
// headers that go with it (Retry-After, Allow, WWW-Authenticate).
//
// An *Error is immutable once built: WithDetails and WithHeader return a
// modified copy and never touch the receiver, and Write only reads it. So
// one value (a package-level "Not Found", a route's "Method Not Allowed")
// can be written by any number of requests at once, and deriving from it
// is never a data race. Set the fields only while building a new value.
type Error struct {
	Code    Code
	Message string
	Details []generated.Any
	Header  http.Header
	// HTTPStatus overrides the code table when non-zero; used for one case
	// only: a wrong method is code 12 with HTTP 405 and Allow (the gateway
	// itself answers 501, which clients cannot act on).
	HTTPStatus int
}

// Errorf builds an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Error returns "CODE: message".
func (e *Error) Error() string { return e.Code.String() + ": " + e.Message }

// WithDetails returns a copy of e with details appended; e is unchanged.
func (e *Error) WithDetails(details ...generated.Any) *Error {
	c := *e
	c.Details = append(slices.Clip(e.Details), details...)
	return &c
}

// WithHeader returns a copy of e with the response header key set to
// value; e and its Header are unchanged.
func (e *Error) WithHeader(key, value string) *Error {
	c := *e
	c.Header = e.Header.Clone()
	if c.Header == nil {
		c.Header = http.Header{}
	}
	c.Header.Set(key, value)
	return &c
}

// Status returns the google.rpc.Status body, details never nil.
func (e *Error) Status() generated.Status {
	details := e.Details
	if details == nil {
		details = []generated.Any{}
	}
	return generated.Status{Code: int32(e.Code), Message: e.Message, Details: details}
}

// FromError returns err as an *Error: itself when it is one (or wraps one),
// otherwise INTERNAL with a generic message, so that internal error text is
// never sent to a client.
func FromError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Message: "Internal error."}
}

// fallbackBody is grpc-gateway's own last resort when an error cannot be
// encoded, with details added so that it still satisfies the contract.
const fallbackBody = `{"code":13,"message":"failed to marshal error message","details":[]}`

// Write writes err as a google.rpc.Status: Content-Type application/json,
// the HTTP status from the code table, err's headers, and WWW-Authenticate
// on UNAUTHENTICATED as grpc-gateway sets it. If the body cannot be encoded
// it writes the constant fallback body with HTTP 500.
func Write(w http.ResponseWriter, err error) {
	e := FromError(err)
	body, mErr := Marshal(e)
	h := w.Header()
	for k, v := range e.Header {
		// A full slice expression: a later Header().Add on the response
		// must copy rather than append into e's (shared) backing array.
		h[k] = v[:len(v):len(v)]
	}
	h.Set("Content-Type", "application/json")
	h.Del("Content-Length")
	if mErr != nil {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(fallbackBody))
		return
	}
	if e.Code == Unauthenticated && h.Get("WWW-Authenticate") == "" {
		h.Set("WWW-Authenticate", `Bearer realm="torq"`)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	status := e.Code.HTTPStatus()
	if e.HTTPStatus != 0 {
		status = e.HTTPStatus
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Marshal encodes e's google.rpc.Status as JSON.
func Marshal(e *Error) ([]byte, error) {
	return json.Marshal(e.Status())
}

// Type URLs of the google.rpc error details.
const (
	TypeBadRequest = "type.googleapis.com/google.rpc.BadRequest"
	TypeRetryInfo  = "type.googleapis.com/google.rpc.RetryInfo"
	TypeErrorInfo  = "type.googleapis.com/google.rpc.ErrorInfo"
)

// FieldViolation is one entry of google.rpc.BadRequest.fieldViolations.
type FieldViolation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

// BadRequest returns a google.rpc.BadRequest detail.
func BadRequest(violations ...FieldViolation) generated.Any {
	list := make([]any, len(violations))
	for i, v := range violations {
		list[i] = map[string]any{"field": v.Field, "description": v.Description}
	}
	return generated.Any{Type: TypeBadRequest, AdditionalProperties: map[string]any{"fieldViolations": list}}
}

// RetryInfo returns a google.rpc.RetryInfo detail with retryDelay d.
func RetryInfo(d time.Duration) generated.Any {
	return generated.Any{Type: TypeRetryInfo, AdditionalProperties: map[string]any{"retryDelay": FormatDuration(d)}}
}

// ErrorInfo returns a google.rpc.ErrorInfo detail.
func ErrorInfo(reason, domain string, metadata map[string]string) generated.Any {
	props := map[string]any{"reason": reason, "domain": domain}
	if len(metadata) > 0 {
		md := make(map[string]any, len(metadata))
		for k, v := range metadata {
			md[k] = v
		}
		props["metadata"] = md
	}
	return generated.Any{Type: TypeErrorInfo, AdditionalProperties: props}
}

// FormatDuration writes d as protojson writes a google.protobuf.Duration:
// seconds with 0, 3, 6 or 9 fractional digits and an "s" ("1s", "1.500s").
func FormatDuration(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	secs, nanos := int64(d/time.Second), int64(d%time.Second)
	switch {
	case nanos == 0:
		return fmt.Sprintf("%s%ds", sign, secs)
	case nanos%1e6 == 0:
		return fmt.Sprintf("%s%d.%03ds", sign, secs, nanos/1e6)
	case nanos%1e3 == 0:
		return fmt.Sprintf("%s%d.%06ds", sign, secs, nanos/1e3)
	}
	return fmt.Sprintf("%s%d.%09ds", sign, secs, nanos)
}

// ParseDuration reads a google.protobuf.Duration in its JSON form ("1.500s").
func ParseDuration(s string) (time.Duration, error) {
	if !strings.HasSuffix(s, "s") || strings.ContainsAny(s, "hmunµ") {
		return 0, fmt.Errorf("rpcstatus: %q is not a protobuf duration", s)
	}
	return time.ParseDuration(s)
}
