package version

import (
	"runtime/debug"
	"testing"
)

func TestFormat(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "abc1234def5678901234"}}
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"no build info", nil, "(devel)"},
		{"tagged module", &debug.BuildInfo{GoVersion: "go1.26", Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3 (go1.26)"},
		{"vcs", &debug.BuildInfo{GoVersion: "go1.26", Main: debug.Module{Version: "(devel)"}, Settings: rev}, "(devel) (rev abc1234def56, go1.26)"},
		{"dirty", &debug.BuildInfo{GoVersion: "go1.26", Main: debug.Module{Version: "v0.0.0-2026"},
			Settings: append(rev, debug.BuildSetting{Key: "vcs.modified", Value: "true"})}, "v0.0.0-2026 (rev abc1234def56+dirty, go1.26)"},
		{"empty version", &debug.BuildInfo{}, "(devel)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Format(tc.bi); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
