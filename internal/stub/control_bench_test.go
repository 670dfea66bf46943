package stub

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/torqapi/integrations/internal/bench/benchdata"
)

func itemsJSON(b *testing.B, n int) string {
	raw, err := json.Marshal(benchdata.Integrations(n))
	if err != nil {
		b.Fatal(err)
	}
	return string(raw)
}

// BenchmarkControlCreateAndList is a test's setup through the control
// API: create a workspace with 10 integrations, then list them with its
// token.
func BenchmarkControlCreateAndList(b *testing.B) {
	s, err := NewHandler(Config{})
	if err != nil {
		b.Fatal(err)
	}
	items := itemsJSON(b, 10)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		body := fmt.Sprintf(`{"id":"ws%d","integrations":%s}`, i, items)
		r := httptest.NewRequest("POST", "/__stub/workspaces", strings.NewReader(body))
		r.RemoteAddr = "127.0.0.1:1"
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusCreated {
			b.Fatalf("create: %d %s", w.Code, w.Body)
		}
		var c struct {
			Token string `json:"token"`
		}
		_ = json.Unmarshal(w.Body.Bytes(), &c)
		r = httptest.NewRequest("GET", "/public/v1alpha/integrations", nil)
		r.Header.Set("Authorization", "Bearer "+c.Token)
		w = httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("list: %d", w.Code)
		}
	}
}

// BenchmarkControlReplace1000 replaces a workspace's data with 1,000
// integrations through the control API.
func BenchmarkControlReplace1000(b *testing.B) {
	s, err := NewHandler(Config{})
	if err != nil {
		b.Fatal(err)
	}
	body := `{"integrations":` + itemsJSON(b, 1000) + `}`
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("PUT", "/__stub/workspaces/default/integrations", strings.NewReader(body))
		r.RemoteAddr = "127.0.0.1:1"
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("replace: %d %s", w.Code, w.Body)
		}
	}
}
