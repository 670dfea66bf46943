// Package pertest holds the per-test cost benchmark pair of `make bench`:
// what a Go test pays to get an in-process stub, a client and one list
// (apitest.NewServer + Client + ListIntegrations), against the least any
// HTTP test pays (httptest.NewServer with a static handler and one GET).
// make bench runs `go test -count 1` of the pair N times, so each run is a
// paired round (apitest, then httptest, back to back), and reports the
// median of the per-round ratios.
package pertest
