// Package pertest holds the per-test cost benchmark pair of `make bench`:
// what a Go test pays to get an in-process stub, a client and one list
// (apitest.NewServer + Client + ListIntegrations), against the least any
// HTTP test pays (httptest.NewServer with a static handler and one GET).
// The two run in the same `go test -count N` invocation, so each count is
// a paired round; make bench reports the median of the per-round ratios.
package pertest
