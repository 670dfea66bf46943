package stub

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/bench/benchdata"
)

// benchSizes are the list sizes the benchmarks cover.
var benchSizes = []int{10, 1000, 10000}

// discardWriter is a ResponseWriter that keeps nothing but the status, so
// that a benchmark measures the stack, not a recorder.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (d *discardWriter) Header() http.Header { return d.h }
func (d *discardWriter) WriteHeader(s int)   { d.status = s }
func (d *discardWriter) Write(b []byte) (int, error) {
	d.n += len(b)
	return len(b), nil
}

// BenchmarkHandler is the whole stack (auth, request validation, the
// handler, strict response validation, request log to a discarding logger)
// answering the full list of n integrations.
func BenchmarkHandler(b *testing.B) {
	for _, n := range benchSizes {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			s, err := NewHandler(Config{Integrations: benchdata.Integrations(n)})
			if err != nil {
				b.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, "/public/v1alpha/integrations", nil)
			r.Header.Set("Authorization", demoAuth)
			w := &discardWriter{h: make(http.Header, 4)}
			s.ServeHTTP(w, r)
			if w.status != http.StatusOK {
				b.Fatalf("status %d", w.status)
			}
			b.SetBytes(int64(w.n))
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				s.ServeHTTP(w, r)
			}
		})
	}
}

// BenchmarkHandlerFiltered answers ?type_id=webhook from the snapshot.
func BenchmarkHandlerFiltered(b *testing.B) {
	s, err := NewHandler(Config{Integrations: benchdata.Integrations(1000)})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/public/v1alpha/integrations?type_id=webhook", nil)
	r.Header.Set("Authorization", demoAuth)
	w := &discardWriter{h: make(http.Header, 4)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		s.ServeHTTP(w, r)
	}
	if w.status != http.StatusOK {
		b.Fatalf("status %d", w.status)
	}
}

// BenchmarkValidateResponse is kin-openapi's validation alone of the 200
// body of n integrations: what the stub pays once per body at load instead
// of on every request. It reports the cost per integration.
func BenchmarkValidateResponse(b *testing.B) {
	for _, n := range benchSizes {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			body, err := json.Marshal(generated.IntegrationList{Integrations: benchdata.Integrations(n)})
			if err != nil {
				b.Fatal(err)
			}
			hdr := http.Header{"Content-Type": {"application/json"}}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := testOp.ValidateResponse(nil, http.StatusOK, hdr, body); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/integration")
		})
	}
}
