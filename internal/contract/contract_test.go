package contract_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/torqapi/integrations/internal/contract"
)

func TestSchemaChecksFormats(t *testing.T) {
	doc, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	s, err := contract.Schema(doc, "Integration")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, json, wantErr string
	}{
		{"valid", `{"id":"d7639fb8-8037-4ce2-80e9-c50bc3345c5a","created_at":"2022-03-09T08:40:18Z","sharing_data":{"direction":"incoming"}}`, ""},
		{"bad uuid", `{"id":"not-a-uuid"}`, "id"},
		{"bad date-time", `{"created_at":"yesterday"}`, "created_at"},
		{"bad enum", `{"sharing_data":{"direction":"sideways"}}`, "direction"},
		{"wrong type", `{"name":7}`, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v any
			if err := json.Unmarshal([]byte(tt.json), &v); err != nil {
				t.Fatal(err)
			}
			err := s.VisitJSON(v, contract.SchemaOptions(doc)...)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("want an error naming %q, got %v", tt.wantErr, err)
			}
		})
	}
	if _, err := contract.Schema(doc, "Nope"); err == nil {
		t.Error("want an error for a missing schema")
	}
}
