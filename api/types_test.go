package api_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/torqapi/integrations/api"
	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/fixtures"
)

// TestTypesMatchContract: api's own types have exactly the JSON fields of
// the generated models, so a field added to the contract cannot be missed
// by the client, and data round-trips unchanged.
func TestTypesMatchContract(t *testing.T) {
	t.Parallel()
	jsonShape(t, "Integration", reflect.TypeFor[api.Integration](), reflect.TypeFor[generated.Integration]())

	want, err := json.Marshal(fixtures.Default())
	if err != nil {
		t.Fatal(err)
	}
	var mine []api.Integration
	if err := json.Unmarshal(want, &mine); err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(mine)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the default workspace does not round-trip through api.Integration:\n got %s\nwant %s", got, want)
	}
}

// jsonShape compares two types field by field: same JSON tags, same kinds,
// recursively.
func jsonShape(t *testing.T, path string, mine, gen reflect.Type) {
	t.Helper()
	if mine.Kind() != gen.Kind() {
		t.Errorf("%s: kind %v, generated %v", path, mine.Kind(), gen.Kind())
		return
	}
	switch mine.Kind() {
	case reflect.Slice, reflect.Pointer:
		jsonShape(t, path+"[]", mine.Elem(), gen.Elem())
	case reflect.Struct:
		if mine == gen {
			return // the same type (time.Time, uuid.UUID's array is not a struct)
		}
		if mine.NumField() != gen.NumField() {
			t.Errorf("%s: %d fields, generated %d", path, mine.NumField(), gen.NumField())
		}
		for i := range min(mine.NumField(), gen.NumField()) {
			m, g := mine.Field(i), gen.Field(i)
			if m.Name != g.Name || m.Tag.Get("json") != g.Tag.Get("json") {
				t.Errorf("%s: field %s `json:%q`, generated %s `json:%q`", path, m.Name, m.Tag.Get("json"), g.Name, g.Tag.Get("json"))
				continue
			}
			jsonShape(t, path+"."+m.Name, m.Type, g.Type)
		}
	}
}
