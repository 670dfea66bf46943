// Package golden compares test output with golden files under testdata/ and
// rewrites them under the module-wide -update flag:
//
//	go test ./... -update
//
// go test hands -update to every test binary it runs, and a binary that does
// not define the flag exits with "flag provided but not defined". So every
// package of the module that has tests links this package: through Check, or,
// where a package has no golden files, through a blank import in one of its
// test files:
//
//	import _ "github.com/torqapi/integrations/internal/golden"
//
// TestEveryTestBinaryAcceptsUpdate holds the module to that.
package golden

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// update is the -update flag. It is registered once, here, so that packages
// cannot each define their own (a second definition panics at start).
var update = flag.Bool("update", false, "rewrite the golden files with the output the tests got (go test ./... -update)")

// Update reports whether the tests run with -update, for the rare test that
// must do more than Check when golden files are being rewritten.
func Update() bool { return *update }

// Check compares got with the golden file at path, relative to the test's
// package directory (testdata/list.golden). Under -update it writes got to
// path, creating its directory, and the comparison passes. Otherwise a missing
// file or any difference in bytes fails the test with a line diff (JSON is
// indented first, so a one-line body diffs by field) and the go test command
// that rewrites the file.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("golden: %v", err)
			return
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("golden: %v", err)
			return
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden: %v\nto create it, run: %s", err, rerun(t))
		return
	}
	if bytes.Equal(got, want) {
		return
	}
	t.Errorf("golden: output differs from %s (-want +got):\n%s\nif the new output is right, run: %s",
		path, Diff(want, got), rerun(t))
}

// rerun is the command that rewrites the golden files of the failing test:
// go test in its package, only this test, with -update.
func rerun(t testing.TB) string {
	pkg := "."
	if wd, err := os.Getwd(); err == nil {
		if root := moduleRoot(wd); root != "" {
			if rel, err := filepath.Rel(root, wd); err == nil {
				pkg = "./" + filepath.ToSlash(rel)
			}
		}
	}
	parts := strings.Split(t.Name(), "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return fmt.Sprintf("go test %s -run '%s' -update", pkg, strings.Join(parts, "/"))
}

// moduleRoot is the nearest directory at or above dir with a go.mod, or "".
func moduleRoot(dir string) string {
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Diff is a line diff of want and got with three lines of context: "-" lines
// are only in want, "+" lines only in got. When both are JSON, it diffs their
// indented forms, unless those are equal (the difference is in white space).
// A difference in the final newline alone is said in words.
func Diff(want, got []byte) string {
	if json.Valid(want) && json.Valid(got) {
		var w, g bytes.Buffer
		if json.Indent(&w, want, "", "  ") == nil && json.Indent(&g, got, "", "  ") == nil && !bytes.Equal(w.Bytes(), g.Bytes()) {
			want, got = w.Bytes(), g.Bytes()
		}
	}
	a, b := lines(want), lines(got)
	d := diffLines(a, b)
	if d == "" {
		return fmt.Sprintf("(the lines are equal; the bytes differ in white space or the final newline)\nwant: %q\n got: %q", clip(want), clip(got))
	}
	return d
}

// clip shortens b for a message.
func clip(b []byte) []byte {
	const max = 200
	if len(b) > max {
		return append(b[:max:max], "..."...)
	}
	return b
}

func lines(b []byte) []string {
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// maxCells bounds the LCS table of diffLines (golden files are small; past
// this the diff is the whole of both sides).
const maxCells = 4 << 20

// diffLines is an LCS line diff of a and b in hunks with context, "" when
// the lines are equal.
func diffLines(a, b []string) string {
	type op struct {
		kind byte // ' ', '-', '+'
		text string
	}
	var ops []op
	if (len(a)+1)*(len(b)+1) > maxCells {
		for _, l := range a {
			ops = append(ops, op{'-', l})
		}
		for _, l := range b {
			ops = append(ops, op{'+', l})
		}
	} else {
		// lcs[i][j] is the length of the longest common subsequence of a[i:] and b[j:].
		lcs := make([][]int, len(a)+1)
		for i := range lcs {
			lcs[i] = make([]int, len(b)+1)
		}
		for i := len(a) - 1; i >= 0; i-- {
			for j := len(b) - 1; j >= 0; j-- {
				if a[i] == b[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < len(a) || j < len(b) {
			switch {
			case i < len(a) && j < len(b) && a[i] == b[j]:
				ops = append(ops, op{' ', a[i]})
				i++
				j++
			case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
				ops = append(ops, op{'-', a[i]})
				i++
			default:
				ops = append(ops, op{'+', b[j]})
				j++
			}
		}
	}
	// Show each change with up to three equal lines either side; "..."
	// stands for the equal lines left out.
	const context = 3
	show := make([]bool, len(ops))
	changed := false
	for k, o := range ops {
		if o.kind == ' ' {
			continue
		}
		changed = true
		for x := max(k-context, 0); x <= min(k+context, len(ops)-1); x++ {
			show[x] = true
		}
	}
	if !changed {
		return ""
	}
	var out strings.Builder
	gap := false
	for k, o := range ops {
		if !show[k] {
			gap = true
			continue
		}
		if gap {
			out.WriteString("...\n")
			gap = false
		}
		fmt.Fprintf(&out, "%c %s\n", o.kind, o.text)
	}
	if gap {
		out.WriteString("...\n")
	}
	return out.String()
}
