package main

import (
	"runtime/debug"
	"testing"
)

// TestLoadingGC: loads run with the lower GOGC and serving gets the old
// value back; a GOGC the user set is left alone.
func TestLoadingGC(t *testing.T) {
	const serving = 123
	defer debug.SetGCPercent(debug.SetGCPercent(serving))
	restore := loadingGC(func(string) string { return "" })
	if got := debug.SetGCPercent(loadGCPercent); got != loadGCPercent {
		t.Errorf("GOGC while loading = %d, want %d", got, loadGCPercent)
	}
	restore()
	if got := debug.SetGCPercent(serving); got != serving {
		t.Errorf("GOGC after loading = %d, want %d", got, serving)
	}
	restore = loadingGC(func(k string) string {
		if k == "GOGC" {
			return "200"
		}
		return ""
	})
	if got := debug.SetGCPercent(serving); got != serving {
		t.Errorf("GOGC with the user's GOGC set = %d, want theirs (%d here) untouched", got, serving)
	}
	restore()
}
