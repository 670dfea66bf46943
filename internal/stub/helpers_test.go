package stub

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/auth"
	"github.com/torqapi/integrations/internal/contract"
	goldenfile "github.com/torqapi/integrations/internal/golden"
	"github.com/torqapi/integrations/internal/rpcstatus"
	"github.com/torqapi/integrations/internal/validate"
)

const demoAuth = "Bearer " + auth.DemoToken

// testItems is the data most tests serve: small, fixed, every shape the
// contract allows.
func testItems() []generated.Integration {
	t0 := time.Date(2022, 3, 9, 8, 40, 18, 0, time.UTC)
	t1 := time.Date(2023, 11, 20, 14, 5, 31, 490771179, time.UTC)
	return []generated.Integration{
		{
			ID: uuid.MustParse("d7639fb8-8037-4ce2-80e9-c50bc3345c5a"), Name: "my_integration", DisplayName: "My Integration",
			TypeID: "webhook", CreatedAt: t0, CreatedBy: "user@torq.io", LastUsedAt: t0,
			Details:     generated.IntegrationDetails{Trigger: generated.TriggerDetails{WebhookURL: "https://hooks.torq.io/v1/webhooks/d7639fb8-8037-4ce2-80e9-c50bc3345c5a"}},
			SharingData: generated.SharingData{Direction: generated.SharingNotShared},
		},
		{
			ID: uuid.MustParse("5b0c3f2e-9a41-4d7e-8c6a-1f2e3d4c5b6a"), Name: "slack_security_alerts", DisplayName: "Slack - Security Alerts",
			TypeID: "slack", CreatedAt: t1, CreatedBy: "secops@example.com",
			SharingData: generated.SharingData{Direction: generated.SharingOutgoing, WorkspaceIDs: []string{"0b7c2c55-5d2e-4a56-9f1e-3c8a7b6d5e4f"}},
		},
		{
			ID: uuid.MustParse("9c1e2d3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"), Name: "github_pushes", DisplayName: "GitHub Pushes",
			TypeID: "webhook", CreatedAt: t1, CreatedBy: "dev@example.com",
			Details:     generated.IntegrationDetails{Trigger: generated.TriggerDetails{WebhookURL: "https://hooks.torq.io/v1/webhooks/9c1e2d3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"}},
			SharingData: generated.SharingData{Direction: generated.SharingIncoming, WorkspaceIDs: []string{"7e9a1d3c-2b4f-4c6e-8a0d-9f1b2c3d4e5f"}},
		},
	}
}

// newStub builds the whole stack over testItems with a fixed clock and a
// sleep that records instead of sleeping.
func newStub(t testing.TB, cfg Config) *Stub {
	t.Helper()
	if cfg.Integrations == nil && cfg.FixturesFile == "" {
		cfg.Integrations = testItems()
	}
	s, err := NewHandler(cfg)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.now = func() time.Time { return now }
	s.sleep = func(context.Context, time.Duration) error { return nil }
	return s
}

// request is one request through the stack.
type request struct {
	method, target string
	header         http.Header
	body           string
}

func (rq request) do(t *testing.T, h http.Handler) *httptest.ResponseRecorder {
	t.Helper()
	method := rq.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	r := httptest.NewRequest(method, rq.target, body)
	for k, v := range rq.header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	checkBody(t, r, w)
	return w
}

// get is a GET with the demo token and the given extra header pairs.
func get(t *testing.T, h http.Handler, target string, kv ...string) *httptest.ResponseRecorder {
	t.Helper()
	hdr := http.Header{"Authorization": {demoAuth}}
	for i := 0; i+1 < len(kv); i += 2 {
		hdr[http.CanonicalHeaderKey(kv[i])] = []string{kv[i+1]}
	}
	return request{target: target, header: hdr}.do(t, h)
}

var testValidator = func() *validate.Validator {
	doc, err := contract.Load()
	if err != nil {
		panic(err)
	}
	v, err := validate.New(doc)
	if err != nil {
		panic(err)
	}
	return v
}()

var testOp = func() *validate.Operation {
	op, err := testValidator.Operation(http.MethodGet, "/v1alpha/integrations")
	if err != nil {
		panic(err)
	}
	return op
}()

// checkBody asserts what every answer of the stub satisfies: a JSON body,
// a google.rpc.Status valid against the contract for every error (but the
// token endpoint's RFC 6749 errors), an IntegrationList for a 200 of the
// list, and a request id.
func checkBody(t *testing.T, r *http.Request, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Header().Get("X-Request-Id") == "" {
		t.Errorf("%s %s: no X-Request-Id", r.Method, r.URL)
	}
	body := w.Body.Bytes()
	if r.URL.Path == "/openapi.yaml" && w.Code == http.StatusOK {
		return
	}
	if r.Method == http.MethodHead || w.Code == http.StatusFound {
		return
	}
	if !json.Valid(body) {
		t.Fatalf("%s %s: %d body is not JSON: %q", r.Method, r.URL, w.Code, body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", r.Method, r.URL, ct)
	}
	isList := strings.HasSuffix(r.URL.Path, "/v1alpha/integrations")
	switch {
	case r.URL.Path == "/v1/auth/token" && w.Code != http.StatusMethodNotAllowed:
	case w.Code >= 400:
		if err := testValidator.ValidateStatus(body); err != nil {
			t.Errorf("%s %s: %d body is not a valid Status: %v\n%s", r.Method, r.URL, w.Code, err, body)
		}
		var st generated.Status
		if err := json.Unmarshal(body, &st); err != nil {
			t.Fatalf("%s %s: decode Status: %v", r.Method, r.URL, err)
		}
		// The HTTP status is the code table's, but for a wrong method:
		// code 12 as 405 with Allow.
		if want := rpcstatus.Code(st.Code).HTTPStatus(); w.Code != want && (w.Code != http.StatusMethodNotAllowed || st.Code != int32(rpcstatus.Unimplemented)) {
			t.Errorf("%s %s: HTTP %d for code %d, the table says %d", r.Method, r.URL, w.Code, st.Code, want)
		}
		if !bytes.Contains(body, []byte(`"details":[`)) {
			t.Errorf("%s %s: details missing: %s", r.Method, r.URL, body)
		}
	case isList && w.Code == http.StatusOK:
		if err := testOp.ValidateResponse(nil, w.Code, w.Header(), body); err != nil {
			t.Errorf("%s %s: 200 body breaks the contract: %v", r.Method, r.URL, err)
		}
	}
}

// status decodes a google.rpc.Status body.
func status(t *testing.T, w *httptest.ResponseRecorder) generated.Status {
	t.Helper()
	var st generated.Status
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
		t.Fatalf("decode Status: %v: %s", err, w.Body)
	}
	return st
}

// fieldViolations returns the BadRequest violations' fields of a Status.
func fieldViolations(st generated.Status) []string {
	var fields []string
	for _, d := range st.Details {
		if d.Type != "type.googleapis.com/google.rpc.BadRequest" {
			continue
		}
		list, _ := d.AdditionalProperties["fieldViolations"].([]any)
		for _, v := range list {
			m, _ := v.(map[string]any)
			f, _ := m["field"].(string)
			fields = append(fields, f)
		}
	}
	return fields
}

// golden compares body with testdata/golden/name.json (rewritten with
// -update).
func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", "golden", name+".json"), body)
}
