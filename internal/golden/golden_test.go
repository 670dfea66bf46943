package golden

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps what Check reports instead of failing
// the test that uses it.
type recorder struct {
	testing.TB
	name   string
	failed []string
}

func (r *recorder) Helper()      {}
func (r *recorder) Name() string { return r.name }
func (r *recorder) Errorf(format string, args ...any) {
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

// setUpdate sets -update for one test and restores it after.
func setUpdate(t *testing.T, on bool) {
	t.Helper()
	old := flag.Lookup("update").Value.String()
	if err := flag.Set("update", fmt.Sprint(on)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = flag.Set("update", old) })
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "body.json")
	body := []byte(`{"code":3,"message":"page_size: must be at most 100"}`)

	t.Run("a missing file names -update", func(t *testing.T) {
		setUpdate(t, false)
		r := &recorder{TB: t, name: "TestList/table"}
		Check(r, path, body)
		if len(r.failed) != 1 || !strings.Contains(r.failed[0], "no such file") ||
			!strings.Contains(r.failed[0], "-run '^TestList$/^table$' -update") {
			t.Fatalf("failures %q, want one naming the missing file and the -update command", r.failed)
		}
	})
	t.Run("-update writes the file and passes", func(t *testing.T) {
		setUpdate(t, true)
		r := &recorder{TB: t, name: "TestX"}
		Check(r, path, body)
		if len(r.failed) != 0 {
			t.Fatalf("failures %q", r.failed)
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("file = %q, %v; want %q", got, err, body)
		}
	})
	t.Run("equal bytes pass", func(t *testing.T) {
		setUpdate(t, false)
		r := &recorder{TB: t, name: "TestX"}
		Check(r, path, body)
		if len(r.failed) != 0 {
			t.Fatalf("failures %q", r.failed)
		}
	})
	t.Run("a mismatch shows a diff and the -update command", func(t *testing.T) {
		setUpdate(t, false)
		r := &recorder{TB: t, name: "TestX/bad page size"}
		Check(r, path, []byte(`{"code":3,"message":"page_size: must be at least 1"}`))
		if len(r.failed) != 1 {
			t.Fatalf("failures %q, want one", r.failed)
		}
		msg := r.failed[0]
		for _, want := range []string{
			path + " (-want +got)",
			`-   "message": "page_size: must be at most 100"`,
			`+   "message": "page_size: must be at least 1"`,
			`    "code": 3,`,
			"go test ./internal/golden -run '^TestX$/^bad page size$' -update",
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("message lacks %q:\n%s", want, msg)
			}
		}
	})
}

func TestDiff(t *testing.T) {
	long := func(n int, changed int) string {
		var b strings.Builder
		for i := range n {
			if i == changed {
				fmt.Fprintf(&b, "line %d changed\n", i)
				continue
			}
			fmt.Fprintf(&b, "line %d\n", i)
		}
		return b.String()
	}
	for _, tc := range []struct {
		name, want, got, diff string
	}{
		{"one line changed", "a\nb\nc\n", "a\nB\nc\n", "  a\n- b\n+ B\n  c\n"},
		{"line added at the end", "a\n", "a\nb\n", "  a\n+ b\n"},
		{"line removed at the start", "a\nb\n", "b\n", "- a\n  b\n"},
		{"three lines of context, the rest elided", long(20, 10), long(20, -1),
			"...\n  line 7\n  line 8\n  line 9\n- line 10 changed\n+ line 10\n  line 11\n  line 12\n  line 13\n...\n"},
		{"hunks apart", long(20, 2), long(20, 16),
			"  line 0\n  line 1\n- line 2 changed\n+ line 2\n  line 3\n  line 4\n  line 5\n...\n  line 13\n  line 14\n  line 15\n- line 16\n+ line 16 changed\n  line 17\n  line 18\n  line 19\n"},
		{"JSON diffs by field", `{"a":1,"b":2}`, `{"a":1,"b":3}`, "  {\n    \"a\": 1,\n-   \"b\": 2\n+   \"b\": 3\n  }\n"},
		{"final newline only", "a\n", "a", "(the lines are equal; the bytes differ in white space or the final newline)\nwant: \"a\\n\"\n got: \"a\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Diff([]byte(tc.want), []byte(tc.got)); got != tc.diff {
				t.Errorf("Diff =\n%s\nwant\n%s", got, tc.diff)
			}
		})
	}
}

// TestEveryTestBinaryAcceptsUpdate holds every package with tests to linking
// this package, so that go test ./... -update does not fail in one of them
// with "flag provided but not defined: -update".
func TestEveryTestBinaryAcceptsUpdate(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := moduleRoot(filepath.Dir(wd))
	cmd := exec.Command("go", "list", "-test", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const self = "github.com/torqapi/integrations/internal/golden"
	binaries := 0
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		pkg, ok := strings.CutSuffix(fields[0], ".test")
		if !ok {
			continue
		}
		binaries++
		if pkg == self || slices.Contains(fields[1:], self) {
			continue
		}
		t.Errorf("the tests of %s do not link %s: go test ./... -update fails there; add to one of its test files:\n\timport _ %q", pkg, self, self)
	}
	if binaries < 10 {
		t.Fatalf("go list found %d test binaries, want the module's (at least 10)", binaries)
	}
}
