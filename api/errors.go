package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Code is a gRPC status code (google.rpc.Code), the `code` of the
// google.rpc.Status body Torq sends with every error.
type Code int32

// The 17 gRPC status codes.
const (
	CodeOK                 Code = 0
	CodeCanceled           Code = 1
	CodeUnknown            Code = 2
	CodeInvalidArgument    Code = 3
	CodeDeadlineExceeded   Code = 4
	CodeNotFound           Code = 5
	CodeAlreadyExists      Code = 6
	CodePermissionDenied   Code = 7
	CodeResourceExhausted  Code = 8
	CodeFailedPrecondition Code = 9
	CodeAborted            Code = 10
	CodeOutOfRange         Code = 11
	CodeUnimplemented      Code = 12
	CodeInternal           Code = 13
	CodeUnavailable        Code = 14
	CodeDataLoss           Code = 15
	CodeUnauthenticated    Code = 16
)

// String returns the code's canonical name, such as "PERMISSION_DENIED", or
// "CODE(42)" for a code outside the 17.
func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "CODE(" + strconv.Itoa(int(c)) + ")"
}

// codeNames are the canonical names of the codes, indexed by code. The
// client owns this table (and the HTTP mapping below) rather than sharing
// the stub's: importing api must not pull in the server's packages.
var codeNames = [...]string{
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
	"NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
	"FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
	"INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
}

// Error is the error of every call that got an HTTP answer other than 2xx.
//
// When the body is a google.rpc.Status (every error Torq's API writes),
// Code, Message and Details come from it. Otherwise (an HTML page from a
// proxy or load balancer) Code is derived from the HTTP status, Message is a
// short, sanitised snippet of the body and Details is empty. A redirect,
// Torq's answer to an expired token, is never followed: it becomes
// CodeUnauthenticated.
type Error struct {
	// HTTPStatus is the HTTP status code of the response, such as 403.
	HTTPStatus int
	// Code is the gRPC status code of the google.rpc.Status body.
	Code Code
	// Message is the developer-facing message of the body.
	Message string
	// Details are the body's google.protobuf.Any entries, decoded; see
	// BadRequest, RetryInfo and ErrorInfo.
	Details []Any
	// Header holds the response headers (Retry-After, WWW-Authenticate...).
	Header http.Header
	// Body is the raw response body, read through a size limit
	// (MaxErrorBodyBytes) and truncated there.
	Body []byte
}

// Error returns "torq: <HTTP status> <CODE>: <message>", for example
// "torq: 403 PERMISSION_DENIED: You don't have permission to access this resource.".
func (e *Error) Error() string {
	return fmt.Sprintf("torq: %d %s: %s", e.HTTPStatus, e.Code, e.Message)
}

// FieldViolation is one entry of a google.rpc.BadRequest detail: which
// request field was wrong and why.
type FieldViolation struct {
	Field       string
	Description string
}

// ErrorInfo is a google.rpc.ErrorInfo detail: a machine-readable reason
// within a domain, with metadata.
type ErrorInfo struct {
	Reason   string
	Domain   string
	Metadata map[string]string
}

// detail returns the first of e's details of message type name.
func (e *Error) detail(name string) (Any, bool) { return findDetail(e.Details, name) }

// findDetail returns the first detail whose type URL names the message name
// (its last path segment, as the Any convention says).
func findDetail(details []Any, name string) (Any, bool) {
	for _, d := range details {
		if d.Type == name || strings.HasSuffix(d.Type, "/"+name) {
			return d, true
		}
	}
	return Any{}, false
}

// BadRequest returns the field violations of the first google.rpc.BadRequest
// detail; ok is false when there is none.
func (e *Error) BadRequest() (violations []FieldViolation, ok bool) {
	d, ok := e.detail("google.rpc.BadRequest")
	if !ok {
		return nil, false
	}
	list, _ := d.AdditionalProperties["fieldViolations"].([]any)
	for _, item := range list {
		m, _ := item.(map[string]any)
		field, _ := m["field"].(string)
		desc, _ := m["description"].(string)
		violations = append(violations, FieldViolation{Field: field, Description: desc})
	}
	return violations, true
}

// RetryInfo returns the retryDelay of the first google.rpc.RetryInfo detail;
// ok is false when there is none or its delay cannot be read.
func (e *Error) RetryInfo() (delay time.Duration, ok bool) {
	d, ok := e.detail("google.rpc.RetryInfo")
	if !ok {
		return 0, false
	}
	return retryDelay(d)
}

func retryDelay(d Any) (time.Duration, bool) {
	s, _ := d.AdditionalProperties["retryDelay"].(string)
	// google.protobuf.Duration's JSON form: decimal seconds with an "s"
	// suffix, such as "1.5s"; time.ParseDuration reads it once other units
	// are ruled out.
	if !strings.HasSuffix(s, "s") || strings.ContainsAny(s, "hmunµ") {
		return 0, false
	}
	delay, err := time.ParseDuration(s)
	if err != nil || delay < 0 {
		return 0, false
	}
	return delay, true
}

// ErrorInfo returns the first google.rpc.ErrorInfo detail; ok is false when
// there is none.
func (e *Error) ErrorInfo() (info ErrorInfo, ok bool) {
	d, ok := e.detail("google.rpc.ErrorInfo")
	if !ok {
		return ErrorInfo{}, false
	}
	info.Reason, _ = d.AdditionalProperties["reason"].(string)
	info.Domain, _ = d.AdditionalProperties["domain"].(string)
	if md, _ := d.AdditionalProperties["metadata"].(map[string]any); len(md) > 0 {
		info.Metadata = make(map[string]string, len(md))
		for k, v := range md {
			s, _ := v.(string)
			info.Metadata[k] = s
		}
	}
	return info, true
}

// ErrResponseTooLarge is wrapped by the error of a call whose successful
// response body is larger than MaxResponseBodyBytes.
var ErrResponseTooLarge = errors.New("torq: response body too large")

// Size limits for bodies read from the network.
const (
	// MaxResponseBodyBytes bounds a successful response body (32 MiB).
	MaxResponseBodyBytes = 32 << 20
	// MaxErrorBodyBytes bounds the part of an error body that is read and
	// kept in Error.Body (64 KiB); the rest is discarded.
	MaxErrorBodyBytes = 64 << 10
)

// maxSnippet is the length, in runes, of the message taken from a body that
// is not a google.rpc.Status.
const maxSnippet = 120

// newError builds the *Error of a non-2xx response whose (limited) body has
// been read. Secrets are not its concern: the client redacts every error
// once, where it leaves the client.
func newError(status int, header http.Header, body []byte) *Error {
	e := &Error{HTTPStatus: status, Header: header.Clone(), Body: body}
	if status >= 300 && status < 400 {
		// Torq answers an expired bearer token with HTTP 302; following it
		// would only lead to a login page.
		e.Code = CodeUnauthenticated
		e.Message = fmt.Sprintf("bearer token expired or invalid: the server answered HTTP %d and the redirect was not followed", status)
		return e
	}
	if st, ok := decodeStatus(body); ok {
		e.Code = codeForHTTPStatus(status)
		if st.Code != nil && Code(*st.Code) != CodeOK {
			// A failure never carries OK: a body claiming it keeps the
			// code of its HTTP status.
			e.Code = Code(*st.Code)
		}
		e.Message = st.Message
		e.Details = st.Details
		if e.Message == "" {
			e.Message = http.StatusText(status)
		}
		return e
	}
	e.Code = codeForHTTPStatus(status)
	e.Message = snippet(body)
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

type wireStatus struct {
	Code    *int32 `json:"code"`
	Message string `json:"message"`
	Details []Any  `json:"details"`
}

// decodeStatus reads body as a google.rpc.Status; a JSON object with neither
// code nor message is not one.
func decodeStatus(body []byte) (wireStatus, bool) {
	var st wireStatus
	if err := json.Unmarshal(body, &st); err != nil {
		return wireStatus{}, false
	}
	if st.Code == nil && st.Message == "" {
		return wireStatus{}, false
	}
	return st, true
}

// codeForHTTPStatus derives a code for a response without a Status body:
// grpc-gateway's table read backwards, and for 502 (which no gRPC code maps
// to) UNAVAILABLE, as gRPC's own HTTP-to-gRPC mapping does for a proxy that
// cannot reach the service. Anything else is UNKNOWN.
// A failure never gets OK: a 2xx status is UNKNOWN here.
func codeForHTTPStatus(status int) Code {
	switch status {
	case 499:
		return CodeCanceled
	case http.StatusBadRequest:
		return CodeInvalidArgument
	case http.StatusUnauthorized:
		return CodeUnauthenticated
	case http.StatusForbidden:
		return CodePermissionDenied
	case http.StatusNotFound:
		return CodeNotFound
	case http.StatusConflict:
		return CodeAborted
	case http.StatusTooManyRequests:
		return CodeResourceExhausted
	case http.StatusInternalServerError:
		return CodeInternal
	case http.StatusNotImplemented:
		return CodeUnimplemented
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return CodeUnavailable
	case http.StatusGatewayTimeout:
		return CodeDeadlineExceeded
	}
	return CodeUnknown
}

var (
	titleRE = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)
	tagRE   = regexp.MustCompile(`(?s)<[^>]*>`)
)

// snippet returns a short, printable summary of a body that is not a
// google.rpc.Status: an HTML page's title, or its text without tags,
// whitespace collapsed and cut at maxSnippet runes.
func snippet(body []byte) string {
	s := string(body)
	if m := titleRE.FindStringSubmatch(s); m != nil && strings.TrimSpace(m[1]) != "" {
		s = m[1]
	} else {
		s = tagRE.ReplaceAllString(s, " ")
	}
	s = html.UnescapeString(s)
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxSnippet {
		s = string(r[:maxSnippet]) + "..."
	}
	return s
}

// ContractError reports a response that does not match the contract
// (openapi.yaml). Only a response check (WithResponseCheck; package
// apicheck builds one) produces it: it is how a program learns that the API
// changed under it.
type ContractError struct {
	// Method and Path name the operation the response was checked
	// against, such as GET "/v1alpha/integrations" (Path is relative to the
	// client's base URL).
	Method, Path string
	// HTTPStatus is the status of the offending response.
	HTTPStatus int
	// Field is the JSON path of the offending value, such as
	// "integrations.0.id"; empty when the problem is not one field (a wrong
	// Content-Type, an undocumented status).
	Field string
	// Reason says what is wrong, without the offending value.
	Reason string
}

// Error returns "torq: response violates the contract: field <path>: <reason>".
func (e *ContractError) Error() string {
	if e.Field == "" {
		return "torq: response violates the contract: HTTP " + strconv.Itoa(e.HTTPStatus) + ": " + e.Reason
	}
	return "torq: response violates the contract: field " + e.Field + ": " + e.Reason
}
