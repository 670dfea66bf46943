package integrations_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	integrations "github.com/torqapi/integrations"
	"github.com/torqapi/integrations/generated"
)

func loadContract(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(integrations.OpenAPISpec)
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	return doc
}

func TestContractValidates(t *testing.T) {
	doc := loadContract(t)
	// Examples are validated against their schemas too, so every example a
	// documentation renderer or mock tool shows is a payload the contract allows.
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
}

func TestContractDescribesTheOperation(t *testing.T) {
	doc := loadContract(t)

	var urls []string
	for _, s := range doc.Servers {
		if s.Description == "" {
			t.Errorf("server %s has no description", s.URL)
		}
		urls = append(urls, s.URL)
	}
	if want := []string{"https://api.torq.io/public", "https://api.eu.torq.io/public"}; !reflect.DeepEqual(urls, want) {
		t.Errorf("servers = %v, want %v", urls, want)
	}
	for _, fact := range []string{"https://auth.torq.io/v1/auth/token", "https://auth.eu.torq.io/v1/auth/token", "50 requests per second", "client-credentials"} {
		if !strings.Contains(doc.Info.Description, fact) {
			t.Errorf("info.description does not mention %q", fact)
		}
	}

	scheme := doc.Components.SecuritySchemes["BearerAuth"]
	if scheme == nil || scheme.Value.Type != "http" || scheme.Value.Scheme != "bearer" {
		t.Fatalf("securitySchemes.BearerAuth = %+v, want http bearer", scheme)
	}

	op := doc.Paths.Find("/v1alpha/integrations").Get
	if op == nil {
		t.Fatal("GET /v1alpha/integrations is missing")
	}
	if op.OperationID != "ListIntegrations" || op.Summary == "" || op.Description == "" ||
		!reflect.DeepEqual(op.Tags, []string{"Integrations"}) {
		t.Errorf("operation id %q, tags %v, summary %q, description %q: want ListIntegrations, [Integrations] and a summary and description",
			op.OperationID, op.Tags, op.Summary, op.Description)
	}
	if op.Security == nil || len(*op.Security) != 1 || (*op.Security)[0]["BearerAuth"] == nil {
		t.Errorf("operation security = %v, want BearerAuth", op.Security)
	}

	// Other parameters may be added (make check-breaking judges how); type_id
	// is Torq's and stays as it is.
	p := op.Parameters.GetByInAndName("query", "type_id")
	if p == nil {
		t.Fatal("query parameter type_id is missing")
	}
	if p.Required || !p.Schema.Value.Type.Is("string") || p.Description == "" {
		t.Errorf("type_id parameter = %+v, want an optional, described string", p)
	}

	for _, code := range []string{"200", "401", "403", "default"} {
		r := op.Responses.Value(code)
		if r == nil {
			t.Errorf("response %s is missing", code)
			continue
		}
		if r.Value.Description == nil || *r.Value.Description == "" {
			t.Errorf("response %s has no description", code)
		}
		mt := r.Value.Content.Get("application/json")
		if mt == nil {
			t.Errorf("response %s has no application/json content", code)
			continue
		}
		wantSchema := "#/components/schemas/Status"
		if code == "200" {
			wantSchema = "#/components/schemas/IntegrationList"
		}
		if mt.Schema.Ref != wantSchema {
			t.Errorf("response %s schema = %q, want %q", code, mt.Schema.Ref, wantSchema)
		}
		if code != "default" && len(mt.Examples) == 0 {
			t.Errorf("response %s has no example", code)
		}
	}
}

// TestContractHasEveryDocumentedField holds the contract against the
// documentation page (list-integrations): every field with its type, format
// and example, and a description. Fields may be added; a field renamed or
// removed fails here and, with its name, in make check-breaking.
func TestContractHasEveryDocumentedField(t *testing.T) {
	doc := loadContract(t)
	schemas := doc.Components.Schemas
	tests := []struct {
		schema, field, typ, format, example string
		described                           bool // has a description of its own (its words are the contract's, not retyped here)
	}{
		{"Integration", "id", "string", "uuid", "d7639fb8-8037-4ce2-80e9-c50bc3345c5a", true},
		{"Integration", "name", "string", "", "my_integration", true},
		{"Integration", "display_name", "string", "", "My Integration", true},
		{"Integration", "type_id", "string", "", "webhook", true},
		{"Integration", "created_at", "string", "date-time", "2022-03-09T08:40:18Z", true},
		{"Integration", "created_by", "string", "", "user@torq.io", true},
		{"Integration", "last_used_at", "string", "date-time", "2022-03-09T08:40:18Z", true},
		{"Integration", "details", "object", "", "", false},
		{"Integration", "sharing_data", "object", "", "", false},
		{"IntegrationDetails", "trigger", "object", "", "", false},
		{"TriggerDetails", "webhook_url", "string", "", "https://hooks.torq.io/v1/webhooks/d7639fb8-8037-4ce2-80e9-c50bc3345c5a", true},
		{"SharingData", "direction", "string", "", "", true},
		{"SharingData", "workspace_ids", "array", "", "", true},
		{"IntegrationList", "integrations", "array", "", "", true},
		{"Status", "code", "integer", "int32", "16", false},
		{"Status", "message", "string", "", "", false},
		{"Status", "details", "array", "", "", false},
		{"Any", "@type", "string", "", "type.googleapis.com/google.rpc.BadRequest", true},
	}
	for _, tt := range tests {
		t.Run(tt.schema+"."+tt.field, func(t *testing.T) {
			s := schemas[tt.schema]
			if s == nil {
				t.Fatalf("schema %s is missing", tt.schema)
			}
			ref := s.Value.Properties[tt.field]
			if ref == nil {
				t.Fatalf("%s has no property %s", tt.schema, tt.field)
			}
			p := ref.Value
			if !p.Type.Is(tt.typ) {
				t.Errorf("type = %v, want %s", p.Type, tt.typ)
			}
			if p.Format != tt.format {
				t.Errorf("format = %q, want %q", p.Format, tt.format)
			}
			if tt.example != "" {
				if got := strings.TrimSpace(toString(p.Example)); got != tt.example {
					t.Errorf("example = %q, want %q", got, tt.example)
				}
			}
			if tt.described && p.Description == "" {
				t.Error("no description")
			}
		})
	}

	dir := schemas["SharingDirection"].Value
	if want := []any{"not_shared", "incoming", "outgoing"}; !reflect.DeepEqual(dir.Enum, want) {
		t.Errorf("SharingDirection enum = %v, want %v", dir.Enum, want)
	}
	if dir.Default != "not_shared" {
		t.Errorf("SharingDirection default = %v, want not_shared", dir.Default)
	}
	if items := schemas["Status"].Value.Properties["details"].Value.Items; items.Ref != "#/components/schemas/Any" {
		t.Errorf("Status.details items = %q, want Any", items.Ref)
	}
	if ap := schemas["Any"].Value.AdditionalProperties; ap.Has == nil && ap.Schema == nil {
		t.Error("Any does not allow additional properties")
	}
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestGoldenListRoundTrips decodes the documentation's payload into the
// generated types and encodes it again: nothing may be lost or added.
func TestGoldenListRoundTrips(t *testing.T) {
	roundTrip[generated.IntegrationList](t, "testdata/list-integrations.golden.json")
}

// TestStatusWithBadRequestRoundTrips checks that a google.rpc.Status with a
// google.rpc.BadRequest detail keeps its @type and fieldViolations.
func TestStatusWithBadRequestRoundTrips(t *testing.T) {
	st := roundTrip[generated.Status](t, "testdata/status-bad-request.golden.json")
	if len(st.Details) != 1 || st.Details[0].Type != "type.googleapis.com/google.rpc.BadRequest" {
		t.Fatalf("details = %+v, want one google.rpc.BadRequest", st.Details)
	}
	fv, ok := st.Details[0].Get("fieldViolations")
	if !ok {
		t.Fatal("fieldViolations lost in decoding")
	}
	want := []any{map[string]any{"field": "type_id", "description": "value must be a string"}}
	if !reflect.DeepEqual(fv, want) {
		t.Errorf("fieldViolations = %v, want %v", fv, want)
	}
}

func TestEmptyValuesAreOmitted(t *testing.T) {
	b, err := json.Marshal(generated.Integration{Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"name":"x"}` {
		t.Errorf("encoded %s, want only the set field", b)
	}
	b, err = json.Marshal(generated.Status{Code: 5, Message: "Not Found", Details: []generated.Any{}})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"code":5,"message":"Not Found","details":[]}` {
		t.Errorf("encoded %s, want details present as []", b)
	}
}

func roundTrip[T any](t *testing.T, path string) T {
	t.Helper()
	golden, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v T
	dec := json.NewDecoder(bytes.NewReader(golden))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	var want, got any
	if err := json.Unmarshal(golden, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(want, got) {
		t.Errorf("round trip changed the payload:\n got %s\nwant %s", out, golden)
	}
	return v
}

// TestGeneratedHeader checks that the generated file starts with the line Go
// tools use to recognise generated code (go.dev/s/generatedcode).
func TestGeneratedHeader(t *testing.T) {
	b, err := os.ReadFile("generated/integrations.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	if !generatedHeader.MatchString(first) {
		t.Errorf("first line %q is not a 'Code generated ... DO NOT EDIT.' header", first)
	}
}

var generatedHeader = regexp.MustCompile(`^// Code generated .* DO NOT EDIT\.$`)
