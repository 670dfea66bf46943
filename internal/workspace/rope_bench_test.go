package workspace_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/torqapi/integrations/internal/bench/benchdata"
	"github.com/torqapi/integrations/internal/workspace"
)

// discardWriter is a ResponseWriter that keeps nothing, what a request
// costs the stub before the socket. With copying set it copies each write
// into a scratch buffer, as a socket's write copies into the kernel, so
// that an answer written from its pieces and one written whole compare
// fairly. It counts its writes: the system calls a connection would see.
type discardWriter struct {
	h       http.Header
	copying bool
	scratch []byte
	writes  int
	bytes   int
}

func (d *discardWriter) Header() http.Header { return d.h }
func (d *discardWriter) WriteHeader(int)     {}
func (d *discardWriter) Write(p []byte) (int, error) {
	d.writes++
	d.bytes += len(p)
	if d.copying {
		for q := p; len(q) > 0; {
			q = q[copy(d.scratch, q):]
		}
	}
	return len(p), nil
}

// BenchmarkListRope writes the full list and a type_id's list of a
// 100,000-integration workspace (12 types: the filtered list is about a
// twelfth) as the handler does for each request, to a writer that discards
// and to one that copies what it is given (sink=copy); and the default
// workspace's 14 items (one body under 64 KiB, written whole).
func BenchmarkListRope(b *testing.B) {
	for _, n := range []int{14, 100000} {
		items := check(b, benchdata.IntegrationsOfTypes(n, 12))
		s, err := workspace.New([]workspace.Spec{{ID: "default", Integrations: items}})
		if err != nil {
			b.Fatal(err)
		}
		snap := s.Get("default").Snapshot()
		for _, c := range []struct{ name, typeID string }{{"full", ""}, {"filtered", "slack"}} {
			for _, copying := range []bool{false, true} {
				sink := "discard"
				if copying {
					sink = "copy"
				}
				b.Run("n="+strconv.Itoa(n)+"/"+c.name+"/sink="+sink, func(b *testing.B) {
					resp := snap.List(c.typeID)
					w := &discardWriter{h: http.Header{}, copying: copying, scratch: make([]byte, 64<<10)}
					b.ReportAllocs()
					for b.Loop() {
						w.writes, w.bytes = 0, 0
						clear(w.h)
						if err := resp.VisitListIntegrationsResponse(w); err != nil {
							b.Fatal(err)
						}
					}
					b.SetBytes(int64(w.bytes))
					b.ReportMetric(float64(w.writes), "writes/op")
				})
			}
		}
	}
}
