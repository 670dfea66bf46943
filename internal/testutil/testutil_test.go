package testutil

import (
	"strings"
	"sync"
	"testing"

	_ "github.com/torqapi/integrations/internal/golden"
)

func TestBufferConcurrent(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				_, _ = b.Write([]byte("x\n"))
			}
		})
	}
	wg.Wait()
	if n := strings.Count(b.String(), "x\n"); n != 400 {
		t.Errorf("%d lines, want 400", n)
	}
}
