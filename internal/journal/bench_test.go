package journal_test

import (
	"strings"
	"testing"

	"github.com/torqapi/integrations/internal/journal"
)

// BenchmarkRecord is the journal's cost per request: the budget is 1 µs of
// CPU. Typical is an ordinary list request; Long has a path and a query past
// their bounds and the full number of notes.
func BenchmarkRecord(b *testing.B) {
	notes := make([]string, 40)
	for i := range notes {
		notes[i] = strings.Repeat("n", 300)
	}
	cases := []struct {
		name string
		e    journal.Entry
	}{
		{"Typical", journal.Entry{Time: t0, Method: "GET", Path: "/public/v1alpha/integrations", Query: "type_id=jira",
			Status: 200, Workspace: "ws1", RequestID: "7f3a9c-17"}},
		{"Long", journal.Entry{Time: t0, Method: "GET", Path: "/" + strings.Repeat("p", 5000), Query: strings.Repeat("q=v&", 2000),
			Status: 400, Workspace: "ws1", RequestID: "7f3a9c-17", Warnings: notes, Violations: notes, Script: "s1", Step: 3}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			j := journal.New(journal.DefaultSize)
			b.ReportAllocs()
			for b.Loop() {
				j.Record(c.e)
			}
		})
		b.Run(c.name+"Parallel", func(b *testing.B) {
			j := journal.New(journal.DefaultSize)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					j.Record(c.e)
				}
			})
		})
	}
}
