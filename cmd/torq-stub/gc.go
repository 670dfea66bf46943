package main

import "runtime/debug"

// loadGCPercent is the collector's GOGC while a fixture file is read and
// judged, at the start and on each reload. The heap then holds the data
// being served (on a reload), the data being built, and the short-lived
// values each batch of items is decoded into; at the default of 100 the
// heap may grow to twice what is live before the collector runs, and a
// reload holds the data twice already. Measured with 100,000 integrations
// (a 48 MiB file): peak RSS over a start and a reload 237 -> 191 MB at 50
// (166 MB at 25, with a slower start), the start's time unchanged within
// noise. Serving, which allocates little, keeps the default.
const loadGCPercent = 50

// loadingGC sets GOGC to loadGCPercent until the returned function is
// called, unless the user set GOGC: their setting stands.
func loadingGC(getenv func(string) string) (restore func()) {
	if getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(loadGCPercent)
	return func() { debug.SetGCPercent(old) }
}
