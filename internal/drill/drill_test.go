package drill_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/torqapi/integrations/internal/auth"
	_ "github.com/torqapi/integrations/internal/golden" // go test ./... -update
)

// The contract changes of the drill, as a maintainer would type them: an
// optional response field and an optional integer query parameter.
const (
	paramAnchor = "      responses:\n        '200':\n"
	pageSize    = `        - name: page_size
          in: query
          required: false
          description: The maximum number of integrations in one answer.
          schema:
            type: integer
            format: int32
            minimum: 1
            maximum: 100
`
	fieldAnchor = "        details:\n          $ref: '#/components/schemas/IntegrationDetails'\n"
	description = `        description:
          x-order: 8
          type: string
          description: What the integration is for, as its owner wrote it.
`
)

// TestEvolution is the evolution drill: change the contract, regenerate, and
// the stub serves the new field from a fixture and validates the new
// parameter, with no other file touched.
func TestEvolution(t *testing.T) {
	if testing.Short() {
		t.Skip("the drill copies the repository and builds the stub")
	}
	dir := copyRepo(t)
	edit(t, dir, "openapi.yaml", paramAnchor, pageSize)
	edit(t, dir, "openapi.yaml", fieldAnchor, description)

	run(t, dir, "go", "generate", "./...")
	gen, err := os.ReadFile(filepath.Join(dir, "generated", "integrations.gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`form:"page_size`, `json:"description`} {
		if !bytes.Contains(gen, []byte(want)) {
			t.Fatalf("go generate did not add %q to generated/integrations.gen.go", want)
		}
	}
	// The contract's own tests take the change as it is.
	run(t, dir, "go", "test", "-count=1", ".")
	bin := filepath.Join(t.TempDir(), "torq-stub")
	run(t, dir, "go", "build", "-o", bin, "./cmd/torq-stub")

	fixture := filepath.Join(t.TempDir(), "integrations.json")
	if err := os.WriteFile(fixture, []byte(`{"integrations": [{
		"id": "d7639fb8-8037-4ce2-80e9-c50bc3345c5a",
		"name": "my_integration",
		"display_name": "My Integration",
		"type_id": "webhook",
		"created_at": "2022-03-09T08:40:18Z",
		"description": "pages the on-call engineer"
	}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	base := startStub(t, bin, "--addr", "127.0.0.1:0", "--quiet", "--fixtures", fixture)

	t.Run("the new field is served from the fixture", func(t *testing.T) {
		code, body := get(t, base+"/v1alpha/integrations")
		var list struct {
			Integrations []map[string]any `json:"integrations"`
		}
		if err := json.Unmarshal(body, &list); code != http.StatusOK || err != nil || len(list.Integrations) != 1 {
			t.Fatalf("status %d, %v: %s", code, err, body)
		}
		if got := list.Integrations[0]["description"]; got != "pages the on-call engineer" {
			t.Errorf("description = %v, want the fixture's; body %s", got, body)
		}
	})

	// The parameter Torq always had, refused in the shape the new one must be.
	t.Run("a repeated type_id is 400 naming it", func(t *testing.T) {
		code, body := get(t, base+"/v1alpha/integrations?type_id=a&type_id=b")
		if code != http.StatusBadRequest {
			t.Fatalf("status %d, want 400; body %s", code, body)
		}
		if fields := violations(t, body); !slices.Contains(fields, "type_id") {
			t.Errorf("BadRequest names %q, want type_id; body %s", fields, body)
		}
	})

	t.Run("the new parameter is validated", func(t *testing.T) {
		for _, tc := range []struct {
			value string
			code  int
		}{
			{"10", http.StatusOK},
			{"100", http.StatusOK},
			{"abc", http.StatusBadRequest},
			{"0", http.StatusBadRequest},
			{"101", http.StatusBadRequest},
			{"99999", http.StatusBadRequest},
		} {
			t.Run("page_size="+tc.value, func(t *testing.T) {
				code, body := get(t, base+"/v1alpha/integrations?page_size="+tc.value)
				if code != tc.code {
					t.Fatalf("status %d, want %d (the stub must validate every parameter the contract declares); body %s", code, tc.code, body)
				}
				if tc.code != http.StatusBadRequest {
					return
				}
				if fields := violations(t, body); !slices.Contains(fields, "page_size") {
					t.Errorf("BadRequest names %q, want page_size; body %s", fields, body)
				}
			})
		}
	})

	t.Run("the change is not breaking", func(t *testing.T) {
		if out, err := checkBreaking(t, dir); err != nil {
			t.Errorf("make check-breaking failed on added optional field and parameter: %v\n%s", err, out)
		}
	})
}

// TestCheckBreaking runs make check-breaking on copies of the repository
// whose contract changed in ways that do and do not break existing clients.
func TestCheckBreaking(t *testing.T) {
	if testing.Short() {
		t.Skip("the gate copies the repository and builds oasdiff")
	}
	dir := copyRepo(t)
	spec, err := os.ReadFile(filepath.Join(dir, "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		re, new  string // the first match of re in openapi.yaml is replaced by the template new; re "" leaves it as it is
		breaking string // what the failure names; "" when the change is not breaking
	}{
		{name: "unchanged"},
		{name: "optional response field added", re: regexp.QuoteMeta(fieldAnchor), new: literal(description + fieldAnchor)},
		{name: "optional query parameter added", re: regexp.QuoteMeta(paramAnchor), new: literal(pageSize + paramAnchor)},
		{name: "display_name renamed", re: `(?m)^        display_name:\n`, new: "        title:\n", breaking: "display_name"},
		{name: "created_by removed", re: `(?m)^        created_by:\n(?:          .*\n)+`, breaking: "created_by"},
		{name: "type_id made required", re: `(- name: type_id\n +in: query\n +)required: false`, new: "${1}required: true", breaking: "type_id"},
		{name: "created_at no longer a date-time", re: `(?m)^(        created_at:\n(?:          .*\n)*?)          format: date-time\n`, new: "$1", breaking: "created_at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changed := string(spec)
			if tc.re != "" {
				re := regexp.MustCompile(tc.re)
				loc := re.FindStringSubmatchIndex(changed)
				if loc == nil {
					t.Fatalf("openapi.yaml has no match of %q: update the drill to the contract", tc.re)
				}
				var repl []byte
				repl = re.ExpandString(repl, tc.new, changed, loc)
				changed = changed[:loc[0]] + string(repl) + changed[loc[1]:]
			}
			if err := os.WriteFile(filepath.Join(dir, "openapi.yaml"), []byte(changed), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := checkBreaking(t, dir)
			switch {
			case tc.breaking == "" && err != nil:
				t.Errorf("make check-breaking failed on a change that breaks no client: %v\n%s", err, out)
			case tc.breaking != "" && err == nil:
				t.Errorf("make check-breaking passed a breaking change\n%s", out)
			case tc.breaking != "" && !strings.Contains(out, "`"+tc.breaking+"`") && !strings.Contains(out, "/"+tc.breaking+"`"):
				t.Errorf("make check-breaking failed without naming %s:\n%s", tc.breaking, out)
			}
		})
	}
}

// literal is s as a regexp replacement template: "$" stands for itself.
func literal(s string) string { return strings.ReplaceAll(s, "$", "$$") }

// checkBreaking runs make check-breaking in dir and returns its output.
func checkBreaking(t *testing.T, dir string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not found (CI installs it)")
	}
	cmd := exec.Command("make", "-s", "check-breaking")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// copyRepo copies the files of the repository that git tracks or would track
// (not .git, not .cache, not what .gitignore names) into a temporary
// directory. Module and build caches are the user's, so the copy builds as
// fast as the original.
func copyRepo(t *testing.T) string {
	t.Helper()
	root := filepath.Join("..", "..")
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	dst := t.TempDir()
	n := 0
	for _, name := range strings.Split(string(out), "\x00") {
		if name == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, name))
		if os.IsNotExist(err) {
			continue // deleted in the work tree, not yet in git
		}
		if err != nil {
			t.Fatal(err)
		}
		to := filepath.Join(dst, name)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, 0o644); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n < 10 {
		t.Fatalf("copied %d files: not the repository", n)
	}
	return dst
}

// edit inserts text before the first anchor in dir/name.
func edit(t *testing.T, dir, name, anchor, text string) {
	t.Helper()
	path := filepath.Join(dir, name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if !strings.Contains(s, anchor) {
		t.Fatalf("%s lacks %q: update the drill to the contract", name, anchor)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(s, anchor, text+anchor, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// run runs a command in dir and fails the test with its output when it fails.
func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// lockedBuffer is a bytes.Buffer written by the command's copying goroutine
// and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// listening is the banner line of torq-stub with the address it listens on.
var listening = regexp.MustCompile(`listening on (http://127\.0\.0\.1:[0-9]+/public)`)

// startStub starts the built stub, waits for its banner and returns the base
// URL of Torq's API on it. The stub is killed when the test ends.
func startStub(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		close(found)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case base, ok := <-found:
		if !ok {
			t.Fatalf("torq-stub ended without its banner; stderr:\n%s", stderr.String())
		}
		return base
	case <-time.After(30 * time.Second):
		t.Fatalf("torq-stub printed no banner in 30s; stderr:\n%s", stderr.String())
	}
	return ""
}

// get calls url with the demo token and returns the status and body.
func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+auth.DemoToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// violations are the fields a google.rpc.Status body's BadRequest names.
func violations(t *testing.T, body []byte) []string {
	t.Helper()
	var st struct {
		Code    int `json:"code"`
		Details []struct {
			Type            string `json:"@type"`
			FieldViolations []struct {
				Field string `json:"field"`
			} `json:"fieldViolations"`
		} `json:"details"`
	}
	if err := json.Unmarshal(body, &st); err != nil || st.Code != 3 {
		t.Fatalf("not a google.rpc.Status of code 3 (INVALID_ARGUMENT): %v; body %s", err, body)
	}
	var fields []string
	for _, d := range st.Details {
		if d.Type != "type.googleapis.com/google.rpc.BadRequest" {
			continue
		}
		for _, v := range d.FieldViolations {
			fields = append(fields, v.Field)
		}
	}
	return fields
}
