package journal_test

import (
	"fmt"

	"github.com/torqapi/integrations/internal/journal"
)

func ExampleJournal() {
	j := journal.New(2)
	j.Record(journal.Entry{Method: "GET", Path: "/v1alpha/integrations", Status: 200, Workspace: "ws1"})
	j.Record(journal.Entry{Method: "POST", Path: "/v1/auth/token", Query: "client_id=c&client_secret=s3cr3t", Status: 200})
	j.Record(journal.Entry{Method: "GET", Path: "/v1alpha/integrations", Status: 503, Workspace: "ws1", Script: "s1", Step: 0})
	for _, e := range j.List("", 0) { // the first entry made room
		fmt.Printf("%d %s %s ?%s %d %q\n", e.ID, e.Method, e.Path, e.Query, e.Status, e.Script)
	}
	// Output:
	// 2 POST /v1/auth/token ?client_id=c&client_secret=REDACTED 200 ""
	// 3 GET /v1alpha/integrations ? 503 "s1"
}
