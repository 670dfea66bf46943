package validate

import (
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/torqapi/integrations/internal/contract"
	"github.com/torqapi/integrations/internal/rpcstatus"
)

// testDoc has a parameter kin-openapi can reject, which the contract's
// free-form type_id cannot be.
const testDoc = `
openapi: 3.0.3
info: {title: t, version: v}
servers: [{url: "https://example.com/base"}]
paths:
  /items:
    get:
      parameters:
        - {name: limit, in: query, schema: {type: integer, maximum: 10}}
      responses:
        '200':
          description: ok
          content: {application/json: {schema: {type: object, required: [n], properties: {n: {type: integer}}}}}
        default:
          description: error
          content: {application/json: {schema: {$ref: '#/components/schemas/Status'}}}
  /items/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: integer, minimum: 1}}
    get:
      operationId: GetItem
      parameters:
        - {name: verbose, in: query, schema: {type: boolean}}
      responses:
        '200': {description: ok, content: {application/json: {schema: {type: object}}}}
    delete:
      operationId: DeleteItem
      responses:
        '204': {description: gone}
components:
  schemas:
    Status:
      type: object
      required: [code]
      properties: {code: {type: integer}, message: {type: string}}
`

func testOperation(t *testing.T) *Operation {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData([]byte(testDoc))
	if err != nil {
		t.Fatal(err)
	}
	v, err := New(doc)
	if err != nil {
		t.Fatal(err)
	}
	op, err := v.Operation(http.MethodGet, "/items")
	if err != nil {
		t.Fatal(err)
	}
	return op
}

func TestValidateRequest(t *testing.T) {
	op := testOperation(t)
	tests := []struct {
		query string
		field string // "" => valid
	}{
		{"", ""},
		{"limit=3", ""},
		{"limit=11", "limit"},
		{"limit=abc", "limit"},
		{"other=1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			for range 2 { // the verdict does not change
				r := httptest.NewRequest("GET", "/items?"+tt.query, nil)
				err := op.ValidateRequest(r, nil)
				if tt.field == "" {
					if err != nil {
						t.Fatalf("want valid, got %v", err)
					}
					continue
				}
				e, ok := err.(*rpcstatus.Error)
				if !ok || e.Code != rpcstatus.InvalidArgument || !strings.HasPrefix(e.Message, tt.field+": ") {
					t.Fatalf("want INVALID_ARGUMENT naming %s, got %#v", tt.field, err)
				}
				if len(e.Details) != 1 || e.Details[0].Type != rpcstatus.TypeBadRequest {
					t.Errorf("details %+v", e.Details)
				}
			}
		})
	}
}

// TestValidateRequestIgnoresBody: an operation without a request body
// judges a request by its parameters alone; a body, even one that cannot
// be read, changes nothing (it once poisoned a verdict cache).
func TestValidateRequestIgnoresBody(t *testing.T) {
	op := testOperation(t)
	for _, body := range []io.Reader{strings.NewReader(strings.Repeat("x", 70000)), iotest.ErrReader(io.ErrUnexpectedEOF)} {
		r := httptest.NewRequest("GET", "/items?limit=3", body)
		if err := op.ValidateRequest(r, nil); err != nil {
			t.Errorf("with a body: %v", err)
		}
	}
}

func TestFind(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData([]byte(testDoc))
	if err != nil {
		t.Fatal(err)
	}
	v, err := New(doc)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, op := range v.Operations() {
		ids = append(ids, op.Method()+" "+op.Path())
	}
	if want := []string{"GET /items", "DELETE /items/{id}", "GET /items/{id}"}; !slices.Equal(ids, want) {
		t.Errorf("Operations %q, want %q", ids, want)
	}
	tests := []struct {
		method, path string
		op           string // "" => a *RouteError
		params       map[string]string
		allow        []string
	}{
		{"GET", "/items", "GET /items", map[string]string{}, nil},
		{"GET", "/items/42", "GET /items/{id}", map[string]string{"id": "42"}, nil},
		{"DELETE", "/items/42", "DELETE /items/{id}", map[string]string{"id": "42"}, nil},
		{"POST", "/items", "", nil, []string{"GET"}},
		{"PUT", "/items/42", "", nil, []string{"GET", "DELETE"}},
		{"GET", "/nope", "", nil, nil},
		{"GET", "/items/42/more", "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			op, params, err := v.Find(tt.method, tt.path)
			if tt.op == "" {
				var re *RouteError
				if !errors.As(err, &re) || !slices.Equal(re.Allow, tt.allow) {
					t.Fatalf("Find = %v, %v; want a RouteError allowing %q", op, err, tt.allow)
				}
				return
			}
			if err != nil || op.Method()+" "+op.Path() != tt.op || !maps.Equal(params, tt.params) {
				t.Fatalf("Find = %v %v %v, want %s %v", op, params, err, tt.op, tt.params)
			}
		})
	}
	// Path parameters are validated against their schema.
	op, params, _ := v.Find("GET", "/items/0")
	err = op.ValidateRequest(httptest.NewRequest("GET", "/items/0", nil), params)
	var e *rpcstatus.Error
	if !errors.As(err, &e) || e.Code != rpcstatus.InvalidArgument || !strings.HasPrefix(e.Message, "id: ") {
		t.Errorf("id=0: %v, want INVALID_ARGUMENT naming id", err)
	}
	op, params, _ = v.Find("GET", "/items/7")
	if err := op.ValidateRequest(httptest.NewRequest("GET", "/items/7?verbose=maybe", nil), params); err == nil || !strings.HasPrefix(err.Error(), "INVALID_ARGUMENT: verbose: ") {
		t.Errorf("verbose=maybe: %v, want INVALID_ARGUMENT naming verbose", err)
	}
}

func TestValidateResponse(t *testing.T) {
	op := testOperation(t)
	json := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		ok     bool
	}{
		{"valid", 200, json, `{"n":1}`, true},
		{"missing field", 200, json, `{}`, false},
		{"wrong type", 200, json, `{"n":"x"}`, false},
		{"not JSON", 200, json, `{`, false},
		{"wrong content type", 200, http.Header{"Content-Type": {"text/plain"}}, `{"n":1}`, false},
		{"error", 404, json, `{"code":5}`, true},
		{"bad error", 500, json, `{"message":"no code"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := op.ValidateResponse(nil, tt.status, tt.header, []byte(tt.body))
			if (err == nil) != tt.ok {
				t.Fatalf("ValidateResponse = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("the reason spans lines: %q", err)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	op := testOperation(t)
	write := func(status int, body string) func(http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}
	}
	tests := []struct {
		name       string
		mode       Mode
		write      func(http.ResponseWriter)
		wantStatus int
		wantBody   string
		reported   bool
	}{
		{"strict valid", Strict, write(200, `{"n":1}`), 200, `{"n":1}`, false},
		{"strict invalid", Strict, write(200, `{"n":"x"}`), 500, `"code":13`, true},
		{"strict invalid error", Strict, write(503, `{}`), 500, `"code":13`, true},
		{"warn invalid", Warn, write(200, `{"n":"x"}`), 200, `{"n":"x"}`, true},
		{"off invalid", Off, write(200, `{"n":"x"}`), 200, `{"n":"x"}`, false},
		{"nothing written", Strict, func(http.ResponseWriter) {}, 500, `"code":13`, true},
		{"prevalidated", Strict, func(w http.ResponseWriter) {
			if !Prevalidated(w) {
				t.Error("Prevalidated did not find the checker")
			}
			write(200, `{"n":"x"}`)(w)
		}, 200, `{"n":"x"}`, false},
		{"prevalidated too late", Strict, func(w http.ResponseWriter) {
			write(200, `{"n":"x"}`)(w)
			if Prevalidated(w) {
				t.Error("Prevalidated took effect after a write")
			}
		}, 500, `"code":13`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reported []int
			report := func(w http.ResponseWriter, r *http.Request, status int, err error) {
				reported = append(reported, status)
			}
			w := httptest.NewRecorder()
			w.Header().Set("X-Request-Id", "id-1")
			op.Check(w, httptest.NewRequest("GET", "/items", nil), tt.mode, report, tt.write)
			if w.Code != tt.wantStatus || !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Errorf("got %d %s, want %d %s", w.Code, w.Body, tt.wantStatus, tt.wantBody)
			}
			if (len(reported) > 0) != tt.reported {
				t.Errorf("reported %v, want %v", reported, tt.reported)
			}
			if w.Header().Get("X-Request-Id") != "id-1" {
				t.Error("the request id was dropped")
			}
			if tt.wantStatus == 500 && w.Header().Get("Retry-After") != "" {
				t.Error("the replaced answer kept the handler's headers")
			}
		})
	}
}

func TestValidateStatusOfTheContract(t *testing.T) {
	doc, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	v, err := New(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Servers) != 0 {
		t.Error("New should clear the servers")
	}
	for _, e := range []*rpcstatus.Error{
		{Code: rpcstatus.NotFound, Message: "Not Found"},
		rpcstatus.Errorf(rpcstatus.InvalidArgument, "x").WithDetails(rpcstatus.BadRequest(rpcstatus.FieldViolation{Field: "type_id", Description: "d"})),
	} {
		body, _ := rpcstatus.Marshal(e)
		if err := v.ValidateStatus(body); err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
	for _, bad := range []string{`{"code":"5"}`, `{"details":[1]}`, `nope`} {
		if err := v.ValidateStatus([]byte(bad)); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
	op, err := v.Operation("GET", "/v1alpha/integrations")
	if err != nil {
		t.Fatal(err)
	}
	if op.ID() != "ListIntegrations" {
		t.Errorf("operation %q", op.ID())
	}
	if _, err := v.Operation("POST", "/v1alpha/integrations"); err == nil {
		t.Error("want an error for an operation the contract lacks")
	}
}
