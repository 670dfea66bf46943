// Package version is the one version format of the project's binaries
// (torq and torq-stub), so that both --version outputs read alike:
// "v1.2.3 (rev abc1234def56, go1.26)", with "(devel)" for a build outside a
// tagged module and no rev when the build has no VCS information.
package version

import (
	"runtime/debug"
	"strings"
)

// String is the running binary's version in the shared format.
func String() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Format(nil)
	}
	return Format(bi)
}

// Format formats bi (nil: no build information) in the shared format. It
// is String's formatting, split off so it can be checked with made-up
// build information.
func Format(bi *debug.BuildInfo) string {
	if bi == nil {
		return "(devel)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var extra []string
	rev, modified := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if modified {
			rev += "+dirty"
		}
		extra = append(extra, "rev "+rev)
	}
	if bi.GoVersion != "" {
		extra = append(extra, bi.GoVersion)
	}
	if len(extra) == 0 {
		return v
	}
	return v + " (" + strings.Join(extra, ", ") + ")"
}
