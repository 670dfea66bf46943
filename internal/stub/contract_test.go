package stub

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/torqapi/integrations/internal/rpcstatus"
)

// TestEveryOperationIsServed walks the contract the stub serves: every
// operation is routed (under /public and /), answers through the chain
// (auth first), and every query parameter with a typed schema is
// validated for that operation (a bad value is 400 naming it).
func TestEveryOperationIsServed(t *testing.T) {
	s := newStub(t, Config{})
	ops := testValidator.Operations()
	if len(ops) == 0 {
		t.Fatal("the contract has no operations")
	}
	for _, op := range ops {
		path := strings.NewReplacer("{", "", "}", "").Replace(op.Path()) // a concrete path of a templated one
		for _, base := range []string{"", publicPrefix} {
			t.Run(op.Method()+" "+base+path, func(t *testing.T) {
				unauth := request{method: op.Method(), target: base + path}.do(t, s)
				if unauth.Code != http.StatusUnauthorized {
					t.Errorf("without a token: %d, want 401 (auth comes first): %s", unauth.Code, unauth.Body)
				}
				w := request{method: op.Method(), target: base + path, header: http.Header{"Authorization": {demoAuth}}}.do(t, s)
				if w.Code == http.StatusNotFound || w.Code == http.StatusMethodNotAllowed {
					t.Fatalf("%s %s is in the contract but answers %d: %s", op.Method(), path, w.Code, w.Body)
				}
				for _, p := range op.QueryParameters() {
					bad := badValue(p)
					if bad == "" {
						continue
					}
					target := base + path + "?" + url.QueryEscape(p.Name) + "=" + url.QueryEscape(bad)
					w := request{method: op.Method(), target: target, header: http.Header{"Authorization": {demoAuth}}}.do(t, s)
					if w.Code != http.StatusBadRequest || !slices.Equal(fieldViolations(status(t, w)), []string{p.Name}) {
						t.Errorf("%s=%s: %d %s, want 400 naming %s", p.Name, bad, w.Code, w.Body, p.Name)
					}
				}
			})
		}
	}
}

// badValue is a value p's schema refuses, or "" when any string is valid.
func badValue(p *openapi3.Parameter) string {
	if p.Schema == nil || p.Schema.Value == nil {
		return ""
	}
	sc := p.Schema.Value
	switch {
	case sc.Type.Is(openapi3.TypeInteger), sc.Type.Is(openapi3.TypeNumber):
		return "not-a-number"
	case sc.Type.Is(openapi3.TypeBoolean):
		return "maybe"
	case len(sc.Enum) > 0:
		return "not-in-the-enum"
	}
	return ""
}

// TestHostileBodyPoisonsNothing: a GET whose body is too large, or breaks
// off, is answered like any GET (the operation takes no body), and changes
// nothing for the requests after it. It once left a cached 400 behind for
// every later client with the same query.
func TestHostileBodyPoisonsNothing(t *testing.T) {
	s := newStub(t, Config{})
	bodies := map[string]func() io.Reader{
		"over the body limit": func() io.Reader { return strings.NewReader(strings.Repeat("\x00", MaxBodyBytes+10000)) },
		"short then EOF":      func() io.Reader { return iotest.ErrReader(io.ErrUnexpectedEOF) },
		"reset":               func() io.Reader { return iotest.ErrReader(io.ErrClosedPipe) },
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			for _, query := range []string{"", "?type_id=slack"} {
				r := httptest.NewRequest("GET", "/public/v1alpha/integrations"+query, body())
				r.Header.Set("Authorization", demoAuth)
				w := httptest.NewRecorder()
				s.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					t.Errorf("hostile GET%s: %d %s", query, w.Code, w.Body)
				}
				if w := get(t, s, "/public/v1alpha/integrations"+query); w.Code != http.StatusOK {
					t.Errorf("the normal GET%s after it: %d %s", query, w.Code, w.Body)
				}
			}
		})
	}
}

// FuzzHostileThenNormal interleaves an arbitrary request with a fixed
// normal one and asserts the normal one keeps its answer: nothing a
// request sends can change what the next client gets.
func FuzzHostileThenNormal(f *testing.F) {
	f.Add("GET", "type_id=slack", "x", int64(-1))
	f.Add("GET", "", string(make([]byte, 1000)), int64(70000))
	f.Add("POST", "type_id=slack&type_id=webhook", "{}", int64(2))
	f.Add("GET", "type_id=%zz", "", int64(0))
	f.Add("GET", "typeId=slack", "", int64(5))
	s := newStub(f, Config{})
	normal := func(t *testing.T, query string) (int, string) {
		w := get(t, s, "/public/v1alpha/integrations?"+query)
		return w.Code, w.Body.String()
	}
	wantStatus, wantBody := map[string]int{}, map[string]string{}
	for _, q := range []string{"", "type_id=slack"} {
		wantStatus[q], wantBody[q] = normal(&testing.T{}, q)
	}
	f.Fuzz(func(t *testing.T, method, query, body string, declared int64) {
		r := httptest.NewRequest("GET", "/public/v1alpha/integrations", strings.NewReader(body))
		r.Method = method
		r.URL.RawQuery = query
		if declared >= 0 {
			r.ContentLength = declared
		}
		r.Header.Set("Authorization", demoAuth)
		s.ServeHTTP(httptest.NewRecorder(), r)
		for _, q := range []string{"", "type_id=slack", query} {
			if _, ok := wantStatus[q]; !ok {
				continue
			}
			if code, got := normal(t, q); code != wantStatus[q] || got != wantBody[q] {
				t.Fatalf("after %s ?%q: normal ?%s got %d %s, want %d", method, query, q, code, got, wantStatus[q])
			}
		}
	})
}

// TestQueryRules: grpc-gateway's behaviour on top of the contract, derived
// from the declared parameters.
func TestQueryRules(t *testing.T) {
	op := testValidator.Operations()[0]
	q := newQueryRules(op)
	tests := []struct {
		raw, canonical string
		warnings       int
		field          string // a 400 naming it
	}{
		{"type_id=slack", "type_id=slack", 0, ""},
		{"typeId=slack", "type_id=slack", 1, ""},
		{"type_id=", "", 1, ""},
		{"tpye_id=slack", "", 1, ""},
		{"type_id=a+b", "type_id=a+b", 0, ""},
		{"type_id=a%20b", "type_id=a+b", 0, ""},
		{"&&type_id=x&", "type_id=x", 0, ""},
		{"type_id=a&typeId=b", "", 0, "type_id"},
		{"type_id=%zz", "", 0, "type_id"},
		{"x=1;y=2", "", 0, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/v1alpha/integrations?"+tt.raw, nil)
			r2, warnings, e := q.apply(r)
			if tt.field != "" {
				if e == nil || e.Code != rpcstatus.InvalidArgument || len(e.Details) != 1 {
					t.Fatalf("want INVALID_ARGUMENT naming %s, got %v", tt.field, e)
				}
				return
			}
			if e != nil {
				t.Fatal(e)
			}
			if r2.URL.RawQuery != tt.canonical || len(warnings) != tt.warnings {
				t.Errorf("query %q warnings %q, want %q and %d warnings", r2.URL.RawQuery, warnings, tt.canonical, tt.warnings)
			}
			if r.URL.RawQuery != tt.raw {
				t.Error("apply changed the caller's request")
			}
		})
	}
	if _, w, _ := q.apply(httptest.NewRequest("GET", "/v1alpha/integrations?tpye_id=x", nil)); len(w) != 1 || !strings.Contains(w[0], "did you mean type_id?") {
		t.Errorf("misspelling: %q", w)
	}
	if got := lowerCamel("page_size_max"); got != "pageSizeMax" {
		t.Errorf("lowerCamel = %q", got)
	}
}
