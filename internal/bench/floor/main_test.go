package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/bench/benchdata"
)

// TestRun: the floor decodes the whole file and encodes the full list and
// one list per type_id, byte counts matching encoding/json's.
func TestRun(t *testing.T) {
	items := benchdata.IntegrationsOfTypes(300, 50)
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	var buf bytes.Buffer
	if err := benchdata.WriteFixtures(&buf, items); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var want int64
	full, _ := json.Marshal(generated.IntegrationList{Integrations: items})
	want += int64(len(full))
	byType := map[string][]generated.Integration{}
	for _, it := range items {
		byType[it.TypeID] = append(byType[it.TypeID], it)
	}
	for _, l := range byType {
		b, _ := json.Marshal(generated.IntegrationList{Integrations: l})
		want += int64(len(b))
	}
	st, err := encodeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Integrations != 300 || st.TypeIDs != 50 || st.Bytes != want {
		t.Fatalf("got %+v, want 300 integrations, 50 type_ids, %d bytes", st, want)
	}
	var out bytes.Buffer
	if err := run(path, &out); err != nil || !strings.HasPrefix(out.String(), "300 integrations, 50 type_ids, ") {
		t.Fatalf("run: %v, %q", err, out.String())
	}
}

func TestRunBadFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"integrations": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{bad, filepath.Join(dir, "missing.json")} {
		if _, err := encodeFile(p); err == nil {
			t.Errorf("%s: want an error", p)
		}
	}
}
