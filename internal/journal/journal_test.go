package journal_test

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/torqapi/integrations/internal/journal"
)

var t0 = time.Date(2026, 12, 1, 21, 0, 0, 0, time.UTC)

func entry(ws, path string) journal.Entry {
	return journal.Entry{Time: t0, Method: "GET", Path: path, Status: 200, Workspace: ws, RequestID: "r-" + path}
}

func paths(es []journal.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Path
	}
	return out
}

func TestListOrderLimitAndWorkspace(t *testing.T) {
	j := journal.New(4)
	for i, ws := range []string{"a", "b", "a", "b", "a", "b"} {
		j.Record(entry(ws, fmt.Sprint("/", i)))
	}
	tests := []struct {
		name      string
		workspace string
		limit     int
		want      []string
	}{
		{"all, oldest first, the two oldest gone", "", 0, []string{"/2", "/3", "/4", "/5"}},
		{"limit keeps the newest", "", 2, []string{"/4", "/5"}},
		{"limit above the count", "", 10, []string{"/2", "/3", "/4", "/5"}},
		{"one workspace", "a", 0, []string{"/2", "/4"}},
		{"one workspace, limit", "b", 1, []string{"/5"}},
		{"unknown workspace", "zz", 0, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := j.List(tt.workspace, tt.limit)
			if p := paths(got); !reflect.DeepEqual(p, tt.want) {
				t.Errorf("List(%q, %d) = %v, want %v", tt.workspace, tt.limit, p, tt.want)
			}
			for k := 1; k < len(got); k++ {
				if got[k].ID <= got[k-1].ID {
					t.Errorf("IDs not increasing: %d then %d", got[k-1].ID, got[k].ID)
				}
			}
		})
	}
}

func TestRecordKeepsEveryField(t *testing.T) {
	j := journal.New(0)
	if j.Size() != journal.DefaultSize {
		t.Fatalf("Size() = %d, want %d", j.Size(), journal.DefaultSize)
	}
	in := journal.Entry{
		ID: 999, Time: t0, Method: "GET", Path: "/public/v1alpha/integrations", Query: "type_id=jira",
		Status: 503, Workspace: "ws1", RequestID: "abc-1", Warnings: []string{"w1"}, Violations: []string{"v1", "v2"},
		Script: "s1", Step: 2,
	}
	if id := j.Record(in); id != 1 {
		t.Errorf("Record returned %d, want 1 (the caller's ID is ignored)", id)
	}
	want := in
	want.ID = 1
	got := j.List("", 0)
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("List = %+v, want [%+v]", got, want)
	}
	// The journal holds copies: changing the caller's slices changes nothing.
	in.Warnings[0] = "changed"
	if got := j.List("", 0)[0].Warnings[0]; got != "w1" {
		t.Errorf("warning = %q after the caller changed its slice", got)
	}
}

func TestNotesNeverNil(t *testing.T) {
	j := journal.New(1)
	j.Record(entry("a", "/x"))
	e := j.List("", 0)[0]
	if e.Warnings == nil || e.Violations == nil {
		t.Errorf("Warnings = %#v, Violations = %#v; want empty lists", e.Warnings, e.Violations)
	}
}

func TestBounds(t *testing.T) {
	j := journal.New(1)
	long := strings.Repeat("é", 2000) // two bytes a rune: cuts must respect runes
	notes := make([]string, 40)
	for i := range notes {
		notes[i] = long
	}
	j.Record(journal.Entry{Method: long, Path: "/" + long, Query: "q=" + long, Workspace: long, RequestID: long,
		Script: long, Warnings: notes, Violations: notes[:3]})
	e := j.List("", 0)[0]
	for _, c := range []struct {
		field string
		value string
		max   int
	}{
		{"method", e.Method, journal.MaxMethodLen},
		{"path", e.Path, journal.MaxPathLen},
		{"query", e.Query, journal.MaxQueryLen},
		{"workspace", e.Workspace, journal.MaxWorkspaceLen},
		{"request id", e.RequestID, journal.MaxRequestIDLen},
		{"script", e.Script, journal.MaxScriptLen},
		{"warning", e.Warnings[0], journal.MaxNoteLen},
	} {
		if len(c.value) > c.max || !strings.HasSuffix(c.value, journal.Ellipsis) || !utf8.ValidString(c.value) {
			t.Errorf("%s: %d bytes (max %d), valid UTF-8 %v, ends %q", c.field, len(c.value), c.max, utf8.ValidString(c.value), c.value[max(0, len(c.value)-6):])
		}
	}
	if len(e.Warnings) != journal.MaxNotes {
		t.Errorf("%d warnings kept, want %d", len(e.Warnings), journal.MaxNotes)
	}
	if last, want := e.Warnings[journal.MaxNotes-1], journal.Ellipsis+" and 25 more"; last != want {
		t.Errorf("last warning = %q, want %q", last, want)
	}
	if len(e.Violations) != 3 {
		t.Errorf("%d violations, want 3", len(e.Violations))
	}
	// A short text is kept whole.
	j.Record(entry("a", "/short"))
	if e := j.List("", 0)[0]; e.Path != "/short" || e.Method != "GET" {
		t.Errorf("short entry = %+v", e)
	}
}

func TestQuerySecretsRedacted(t *testing.T) {
	tests := []struct{ query, want string }{
		{"type_id=jira", "type_id=jira"},
		{"", ""},
		{"grant_type=client_credentials&client_id=c1&client_secret=s3cr3t", "grant_type=client_credentials&client_id=c1&client_secret=REDACTED"},
		{"ACCESS_TOKEN=abc&x=1", "ACCESS_TOKEN=REDACTED&x=1"},
		{"client%5Fsecret=s3cr3t", "client%5Fsecret=REDACTED"},
		{"token=a&token=b", "token=REDACTED&token=REDACTED"},
		{"tokenish=keep&token", "tokenish=keep&token"},
		{"bad%zz=s3cr3t", "bad%zz=REDACTED"},
		{"x=" + strings.Repeat("a", 3000) + "&client_secret=s3cr3t", ""}, // cut, and no secret
	}
	for _, tt := range tests {
		t.Run(tt.query[:min(len(tt.query), 30)], func(t *testing.T) {
			j := journal.New(1)
			j.Record(journal.Entry{Query: tt.query})
			got := j.List("", 0)[0].Query
			if strings.Contains(got, "s3cr3t") || strings.Contains(got, "abc") && tt.want != got {
				t.Errorf("query %q kept a secret: %q", tt.query, got)
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("query = %q, want %q", got, tt.want)
			}
			if len(got) > journal.MaxQueryLen {
				t.Errorf("query of %d bytes", len(got))
			}
		})
	}
}

func TestClear(t *testing.T) {
	j := journal.New(5)
	for i, ws := range []string{"a", "b", "a", "b", "a", "b", "a"} { // wraps around
		j.Record(entry(ws, fmt.Sprint("/", i)))
	}
	j.Clear("a")
	if got, want := paths(j.List("", 0)), []string{"/3", "/5"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after Clear(a): %v, want %v", got, want)
	}
	// New entries follow the kept ones, and the ring still wraps correctly.
	for i := 7; i < 12; i++ {
		j.Record(entry("c", fmt.Sprint("/", i)))
	}
	if got, want := paths(j.List("", 0)), []string{"/7", "/8", "/9", "/10", "/11"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after refilling: %v, want %v", got, want)
	}
	// Swapped slots keep buffers of their own: rewriting one entry leaves
	// the others alone.
	j.Clear("nobody")
	j.Record(entry("d", "/12"))
	if got, want := paths(j.List("", 0)), []string{"/8", "/9", "/10", "/11", "/12"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after one more: %v, want %v", got, want)
	}
	j.Clear("")
	if got := j.List("", 0); len(got) != 0 {
		t.Fatalf("after Clear(\"\"): %v", paths(got))
	}
	if id := j.Record(entry("a", "/13")); id != 14 {
		t.Errorf("ID after Clear = %d, want 14 (IDs keep increasing)", id)
	}
}

func TestClearSharesNoBuffers(t *testing.T) {
	j := journal.New(3)
	j.Record(entry("a", "/aaaa"))
	j.Record(entry("b", "/bbbb"))
	j.Record(entry("b", "/cccc"))
	j.Clear("a") // moves the two b entries down
	j.Record(entry("x", "/xxxx"))
	j.Record(entry("y", "/yyyy")) // overwrites the oldest b
	if got, want := paths(j.List("", 0)), []string{"/cccc", "/xxxx", "/yyyy"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestSizeBounded(t *testing.T) {
	if got := journal.New(journal.MaxSize + 1).Size(); got != journal.MaxSize {
		t.Errorf("Size() = %d, want %d", got, journal.MaxSize)
	}
}

func TestConcurrentUse(t *testing.T) {
	j := journal.New(64)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws := fmt.Sprint("w", g%3)
			for i := 0; i < 500; i++ {
				j.Record(journal.Entry{Path: "/p", Workspace: ws, Warnings: []string{"w"}})
				switch i % 50 {
				case 0:
					_ = j.List(ws, 5)
				case 25:
					j.Clear(ws)
				}
			}
		}()
	}
	wg.Wait()
	got := j.List("", 0)
	if len(got) > 64 {
		t.Fatalf("%d entries in a journal of 64", len(got))
	}
	for k := 1; k < len(got); k++ {
		if got[k].ID <= got[k-1].ID {
			t.Fatalf("IDs not increasing: %d then %d", got[k-1].ID, got[k].ID)
		}
	}
}

func TestRecordDoesNotAllocate(t *testing.T) {
	j := journal.New(8)
	e := journal.Entry{Time: t0, Method: "GET", Path: "/public/v1alpha/integrations", Query: "type_id=jira&name=x",
		Status: 200, Workspace: "ws1", RequestID: "abc-123", Warnings: []string{"unknown parameter"}}
	for i := 0; i < 16; i++ { // warm every slot
		j.Record(e)
	}
	if n := testing.AllocsPerRun(100, func() { j.Record(e) }); n != 0 {
		t.Errorf("Record allocates %v times per call once warm; want 0", n)
	}
}

// TestSecretLengths keeps the quick length filter in step with the list of
// names: a name added to the list with a new length must not be skipped.
func TestSecretLengths(t *testing.T) {
	for _, name := range journal.SecretParams() {
		j := journal.New(1)
		j.Record(journal.Entry{Query: name + "=s3cr3t"})
		if got := j.List("", 0)[0].Query; got != name+"="+journal.Redacted {
			t.Errorf("query %s=... recorded as %q", name, got)
		}
	}
}
