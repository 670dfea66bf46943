package stub

import (
	"slices"
	"strings"
	"testing"

	"github.com/torqapi/integrations/internal/script"
)

// TestJournal: each exchange of Torq's API is recorded with its status,
// workspace, request id, warnings, violations and the script step that
// answered; the stub's own routes are not, and no Authorization is.
func TestJournal(t *testing.T) {
	s := newStub(t, Config{})
	id, err := s.Scripts().Add(script.Script{Match: script.Match{Workspace: DefaultWorkspace, Query: map[string]string{"type_id": "x"}}, Steps: []script.Step{{Status: 503}}})
	if err != nil {
		t.Fatal(err)
	}
	get(t, s, "/public/v1alpha/integrations?tpye_id=slack")
	get(t, s, "/public/v1alpha/integrations?typeId=slack&type_id=webhook")
	get(t, s, "/v1alpha/integrations?type_id=x")
	(request{target: "/public/v1alpha/integrations"}).do(t, s)
	get(t, s, "/healthz")
	get(t, s, "/public/v1alpha/nope")
	l := s.Journal().List("", 0)
	if len(l) != 5 {
		t.Fatalf("%d entries, want 5 (healthz is not Torq's API): %+v", len(l), l)
	}
	e := l[0]
	if e.Status != 200 || e.Workspace != DefaultWorkspace || e.RequestID == "" || e.Query != "tpye_id=slack" || len(e.Warnings) != 1 || !strings.Contains(e.Warnings[0], "did you mean type_id?") {
		t.Errorf("misspelled parameter: %+v", e)
	}
	if e := l[1]; e.Status != 400 || len(e.Violations) != 1 || !strings.HasPrefix(e.Violations[0], "type_id: too many values") || len(e.Warnings) != 1 {
		t.Errorf("repeated parameter: %+v", e)
	}
	if e := l[2]; e.Status != 503 || e.Script != id || e.Step != 0 {
		t.Errorf("scripted: %+v", e)
	}
	if e := l[3]; e.Status != 401 || e.Workspace != "" {
		t.Errorf("unauthenticated: %+v", e)
	}
	if e := l[4]; e.Status != 404 {
		t.Errorf("unknown path: %+v", e)
	}
	if ids := []uint64{l[0].ID, l[1].ID, l[2].ID}; !slices.IsSorted(ids) {
		t.Errorf("not oldest first: %v", ids)
	}
	for _, e := range l {
		for _, s := range append(append([]string{e.Query, e.Path}, e.Warnings...), e.Violations...) {
			if strings.Contains(s, "torq-stub-token") {
				t.Errorf("the journal holds the token: %+v", e)
			}
		}
	}
}
