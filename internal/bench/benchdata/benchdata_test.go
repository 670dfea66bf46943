package benchdata_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/bench/benchdata"
	"github.com/torqapi/integrations/internal/contract"
	"github.com/torqapi/integrations/internal/fixtures"
)

// validateList checks body against the contract's IntegrationList schema,
// formats included.
func validateList(t *testing.T, body []byte) {
	t.Helper()
	doc, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	schema, err := contract.Schema(doc, "IntegrationList")
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	if err := schema.VisitJSON(v, contract.SchemaOptions(doc)...); err != nil {
		t.Fatalf("list is not valid against the contract: %v", err)
	}
}

func TestIntegrations(t *testing.T) {
	for _, n := range []int{0, 1, 10, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			items := benchdata.Integrations(n)
			if len(items) != n {
				t.Fatalf("len = %d, want %d", len(items), n)
			}
			var buf bytes.Buffer
			if err := benchdata.WriteFixtures(&buf, items); err != nil {
				t.Fatal(err)
			}
			validateList(t, buf.Bytes())
			if err := fixtures.Validate(items); err != nil {
				t.Fatalf("fixtures.Validate: %v", err)
			}
			parsed, err := fixtures.Parse("generated.json", buf.Bytes())
			if err != nil {
				t.Fatalf("fixtures.Parse: %v", err)
			}
			if len(parsed) != n {
				t.Fatalf("fixtures.Parse read %d items, want %d", len(parsed), n)
			}

			seen := map[string]bool{}
			directions := map[generated.SharingDirection]int{}
			for i, it := range items {
				if seen[it.ID.String()] {
					t.Fatalf("item %d: duplicate id %s", i, it.ID)
				}
				seen[it.ID.String()] = true
				directions[it.SharingData.Direction]++
				switch ids := it.SharingData.WorkspaceIDs; it.SharingData.Direction {
				case generated.SharingNotShared:
					if len(ids) != 0 {
						t.Errorf("item %d: not_shared with workspace ids %v", i, ids)
					}
				case generated.SharingIncoming:
					if len(ids) != 1 {
						t.Errorf("item %d: incoming with %d workspace ids, want 1", i, len(ids))
					}
				case generated.SharingOutgoing:
					if len(ids) < 1 || len(ids) > 3 {
						t.Errorf("item %d: outgoing with %d workspace ids, want 1-3", i, len(ids))
					}
				default:
					t.Errorf("item %d: direction %q", i, it.SharingData.Direction)
				}
				if !it.LastUsedAt.IsZero() && it.LastUsedAt.Before(it.CreatedAt.Truncate(1e9)) {
					t.Errorf("item %d: last used %s before created %s", i, it.LastUsedAt, it.CreatedAt)
				}
			}
			if n == 1000 && (directions[generated.SharingIncoming] == 0 || directions[generated.SharingOutgoing] == 0) {
				t.Errorf("1000 items with directions %v: want all three", directions)
			}
		})
	}
}

func TestIntegrationsDeterministic(t *testing.T) {
	encode := func(n int) []byte {
		t.Helper()
		var buf bytes.Buffer
		if err := benchdata.WriteFixtures(&buf, benchdata.Integrations(n)); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	if a, b := encode(100), encode(100); !bytes.Equal(a, b) {
		t.Fatal("two lists of 100 differ")
	}
	short, long := benchdata.Integrations(10), benchdata.Integrations(100)
	for i := range short {
		a, _ := json.Marshal(short[i])
		b, _ := json.Marshal(long[i])
		if !bytes.Equal(a, b) {
			t.Fatalf("item %d of 10 differs from item %d of 100:\n%s\n%s", i, i, a, b)
		}
	}
}

func ExampleIntegrations() {
	for _, it := range benchdata.Integrations(3) {
		fmt.Println(it.TypeID, it.Name, "|", it.DisplayName, "|", it.SharingData.Direction)
	}
	// Output:
	// webhook webhook___siem_alerts | Webhook - SIEM Alerts | not_shared
	// slack slack___soc_channel | Slack - SOC Channel | not_shared
	// jira jira___soc_tickets | Jira - SOC Tickets | outgoing
}

// TestIntegrationsOfTypes: the scale fixtures (50 type_ids) are as valid as
// the default lists, spread over exactly that many type_ids, and 12 types
// is the default list itself.
func TestIntegrationsOfTypes(t *testing.T) {
	tests := []struct{ n, types, wantTypes int }{
		{1000, 50, 50},
		{100, 12, 12},
		{200, 90, 90}, // past the named vendors: numbered copies
		{10, 0, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%d", tt.n, tt.types), func(t *testing.T) {
			items := benchdata.IntegrationsOfTypes(tt.n, tt.types)
			types := map[string]int{}
			for _, it := range items {
				types[it.TypeID]++
			}
			if len(types) != tt.wantTypes {
				t.Fatalf("%d type_ids, want %d", len(types), tt.wantTypes)
			}
			var buf bytes.Buffer
			if err := benchdata.WriteFixtures(&buf, items); err != nil {
				t.Fatal(err)
			}
			validateList(t, buf.Bytes())
			if err := fixtures.Validate(items); err != nil {
				t.Fatalf("fixtures.Validate: %v", err)
			}
		})
	}
	a, _ := json.Marshal(benchdata.IntegrationsOfTypes(100, 12))
	b, _ := json.Marshal(benchdata.Integrations(100))
	if !bytes.Equal(a, b) {
		t.Fatal("IntegrationsOfTypes(100, 12) differs from Integrations(100)")
	}
}
