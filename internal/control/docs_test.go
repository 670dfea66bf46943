package control_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDocsCurlLines runs every shell line of docs/control-api.md, in order,
// against the handler (over the fake backend) on a loopback port, with
// curl's -f so that any answer of 400 or more fails the line: the doc's
// lines are meant to be run as they are.
func TestDocsCurlLines(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	md, err := os.ReadFile("../../docs/control-api.md")
	if err != nil {
		t.Fatal(err)
	}
	var script []string
	inSh := false
	for _, line := range strings.Split(string(md), "\n") {
		switch {
		case line == "```sh":
			inSh = true
		case line == "```":
			inSh = false
		case inSh && line != "" && !strings.HasPrefix(line, "#"):
			script = append(script, line)
		}
	}
	if len(script) < 15 {
		t.Fatalf("only %d lines found in the doc", len(script))
	}
	srv := newTestServer(t, newFakeBackend())
	body := strings.NewReplacer("http://127.0.0.1:8080", srv.URL, "curl -s ", "curl -sf ").Replace(strings.Join(script, "\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", body)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the doc's lines failed: %v\n%s\nscript:\n%s", err, out, body)
	}
	for _, want := range []string{`"id":"ws1"`, `"integrations":0`, `"steps_left"`, "204", "openapi: 3.0.3"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}
