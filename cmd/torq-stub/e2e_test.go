package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestE2EControlShell builds the binary, starts it twice on 127.0.0.1:0
// (the second with --token-ttl 1s), finds each by --addr-file, and runs
// test/e2e/control.sh against them: the control API as a test suite in
// another language sees it. Skipped under -short, or without bash or curl.
func TestE2EControlShell(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: skipped under -short")
	}
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("e2e: no %s", tool)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "torq-stub")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	startBin := func(name string, args ...string) string {
		addrFile := filepath.Join(dir, name+".addr")
		cmd := exec.Command(bin, append([]string{"--addr", "127.0.0.1:0", "--addr-file", addrFile, "--quiet"}, args...)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			if err := cmd.Wait(); err != nil {
				t.Errorf("%s: %v (want exit 0 on SIGINT)", name, err)
			}
		})
		return "http://" + waitFile(t, addrFile)
	}
	base := startBin("main")
	expiry := startBin("expiry", "--token-ttl", "1s")
	script, err := filepath.Abs("../../test/e2e/control.sh")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, "bash", script, base, expiry).CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("control.sh: %v", err)
	}
}
