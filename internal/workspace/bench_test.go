package workspace_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/bench/benchdata"
	"github.com/torqapi/integrations/internal/fixtures"
	"github.com/torqapi/integrations/internal/validate"
	"github.com/torqapi/integrations/internal/workspace"
)

// buildSizes are the data sizes of the load benchmarks; 100,000 is past
// any real workspace (run it with -benchtime=3x: one op takes seconds).
var buildSizes = []int{10, 1000, 100000}

// BenchmarkLoadBaseline is the load internal/stub does today for
// Config.Integrations (fixtures.Validate, then buildSnapshot: every body
// encoded and validated), copied here as the comparison for BenchmarkLoad.
func BenchmarkLoadBaseline(b *testing.B) {
	op := listOp(b)
	for _, n := range buildSizes {
		items := benchdata.Integrations(n)
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := fixtures.Validate(items); err != nil {
					b.Fatal(err)
				}
				if err := baselineSnapshot(items, op); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoad is the same load through workspace: each item judged and
// encoded once (fixtures.CheckValues), bodies assembled (workspace.New).
func BenchmarkLoad(b *testing.B) {
	for _, n := range buildSizes {
		items := benchdata.Integrations(n)
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				checked, err := fixtures.CheckValues(items)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := workspace.New([]workspace.Spec{{ID: "default", Integrations: checked}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCreate is a test's setup: judge 10 integrations and create a
// workspace of them (with generated credentials) next to the default one.
func BenchmarkCreate(b *testing.B) {
	s, err := workspace.New([]workspace.Spec{{ID: "default", Integrations: check(b, benchdata.Integrations(14))}})
	if err != nil {
		b.Fatal(err)
	}
	items := benchdata.Integrations(10)
	b.ReportAllocs()
	for b.Loop() {
		checked, err := fixtures.CheckValues(items)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Create(workspace.Spec{Integrations: checked}); err != nil {
			b.Fatal(err)
		}
		s.Reset()
	}
}

// BenchmarkReplace judges 1,000 integrations and replaces a workspace's
// data with them.
func BenchmarkReplace(b *testing.B) {
	s, err := workspace.New([]workspace.Spec{{ID: "default"}})
	if err != nil {
		b.Fatal(err)
	}
	items := benchdata.Integrations(1000)
	b.ReportAllocs()
	for b.Loop() {
		checked, err := fixtures.CheckValues(items)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Replace("default", checked); err != nil {
			b.Fatal(err)
		}
	}
}

// baselineSnapshot is internal/stub's buildSnapshot and encodeList as of
// this package's start, bodies discarded.
func baselineSnapshot(items []generated.Integration, op *validate.Operation) error {
	if err := baselineList(items, op); err != nil {
		return err
	}
	if err := baselineList(nil, op); err != nil {
		return err
	}
	groups := make(map[string][]generated.Integration)
	var order []string
	for _, it := range items {
		if _, ok := groups[it.TypeID]; !ok {
			order = append(order, it.TypeID)
		}
		groups[it.TypeID] = append(groups[it.TypeID], it)
	}
	for _, typeID := range order {
		if typeID == "" {
			continue
		}
		if err := baselineList(groups[typeID], op); err != nil {
			return err
		}
	}
	return nil
}

func baselineList(items []generated.Integration, op *validate.Operation) error {
	if items == nil {
		items = []generated.Integration{}
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(generated.IntegrationList{Integrations: items}); err != nil {
		return err
	}
	return op.ValidateResponse(nil, http.StatusOK, http.Header{"Content-Type": {"application/json"}}, buf.Bytes())
}
