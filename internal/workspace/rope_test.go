package workspace_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/bench/benchdata"
	"github.com/torqapi/integrations/internal/fixtures"
	"github.com/torqapi/integrations/internal/workspace"
)

// TestNewDoesNotCopyItems: a store of 20,000 integrations allocates far
// less than their encodings take: its bodies are views of the items'
// bytes (fixtures.Item), not copies of them.
func TestNewDoesNotCopyItems(t *testing.T) {
	items := check(t, benchdata.IntegrationsOfTypes(20000, 12))
	total := 0
	for i := range items {
		total += len(items[i].JSON())
	}
	// The least of a few runs: TotalAlloc is the process's, and the
	// runtime allocates now and then on its own.
	least := uint64(1<<63 - 1)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s, err := workspace.New([]workspace.Spec{{ID: "default", Integrations: items}})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if s.Get("default").Snapshot().Len() != len(items) {
			t.Fatal("not every item is served")
		}
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	t.Logf("workspace.New allocated %d bytes for %d items of %d bytes of JSON (%.1f%%)", least, len(items), total, 100*float64(least)/float64(total))
	if least >= uint64(total)/4 {
		t.Errorf("workspace.New allocated %d bytes, at least a quarter of the items' %d bytes of JSON: it copies them", least, total)
	}
}

// ropeLimit is the largest body held whole; larger ones are ropes.
const ropeLimit = 64 << 10

// joined is the materialised assembly of a list: the framing around the
// items' encodings, separated by commas.
func joined(items []fixtures.Item) []byte {
	parts := make([][]byte, len(items))
	for i := range items {
		parts[i] = items[i].JSON()
	}
	return slices.Concat([]byte(`{"integrations":[`), bytes.Join(parts, []byte(",")), []byte("]}\n"))
}

// padTo pads list[0]'s created_by so that size(list) is target bytes;
// size must grow by one for each byte of created_by.
func padTo(t *testing.T, list []generated.Integration, target int, size func([]generated.Integration) int) []generated.Integration {
	t.Helper()
	list = slices.Clone(list)
	d := target - size(list)
	if d < 0 {
		t.Fatalf("the list is already %d bytes, over %d", target-d, target)
	}
	list[0].CreatedBy = strings.Repeat("x", d) + list[0].CreatedBy
	if got := size(list); got != target {
		t.Fatalf("padded to %d bytes, want %d", got, target)
	}
	return list
}

// upTo returns the longest prefix of items whose size is at most target
// less a margin for padding (size grows with the prefix).
func upTo(items []generated.Integration, target int, size func([]generated.Integration) int) []generated.Integration {
	n := sort.Search(len(items), func(n int) bool { return size(items[:n+1]) > target-64 })
	return items[:max(n, 1)]
}

// servedReal gets list typeID of snap from a real server, checking the
// headers against the body.
func servedReal(t *testing.T, snap *workspace.Snapshot, typeID string) []byte {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = snap.List(r.URL.Query().Get("type_id")).VisitListIntegrationsResponse(w)
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/?type_id=" + typeID)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" ||
		resp.ContentLength != int64(len(body)) || resp.TransferEncoding != nil {
		t.Fatalf("status %d, Content-Length %d, Transfer-Encoding %v, headers %v for %d bytes",
			resp.StatusCode, resp.ContentLength, resp.TransferEncoding, resp.Header, len(body))
	}
	return body
}

// TestRopeBodies: lists just below, at and above the size where bodies
// become ropes (and of several chunks) are written, to a recorder and to a
// real connection, byte for byte as the materialised assembly of their
// items, with the right Content-Length, and valid against the contract:
// the full list without and with items shared in, and a type_id's list.
func TestRopeBodies(t *testing.T) {
	op := listOp(t)
	data := benchdata.IntegrationsOfTypes(8000, 12)
	for i := range data {
		data[i].SharingData = generated.SharingData{Direction: generated.SharingNotShared}
	}
	// shared are items of workspace src shared with w.
	shared := slices.Clone(data[len(data)-140 : len(data)-100])
	for i := range shared {
		shared[i].SharingData = generated.SharingData{Direction: generated.SharingOutgoing, WorkspaceIDs: []string{"w"}}
	}
	sharedIn := slices.Clone(shared)
	for i := range sharedIn {
		sharedIn[i].SharingData = generated.SharingData{Direction: generated.SharingIncoming, WorkspaceIDs: []string{"src"}}
	}
	ofType := func(list []generated.Integration, typeID string) []generated.Integration {
		if typeID == "" {
			return list
		}
		return slices.DeleteFunc(slices.Clone(list), func(it generated.Integration) bool { return it.TypeID != typeID })
	}
	cases := []struct {
		name   string
		src    []generated.Integration // src's items, shared with w
		typeID string                  // the list sized to the target
	}{
		{"full", nil, ""},
		{"full shared in", shared, ""},
		{"type_id", nil, "slack"},
		{"type_id shared in", shared, "slack"},
	}
	for _, c := range cases {
		// full is w's full list: its own items, then src's.
		full := func(own []generated.Integration) []generated.Integration {
			if c.src == nil {
				return own
			}
			return slices.Concat(own, sharedIn)
		}
		size := func(own []generated.Integration) int {
			return len(joined(check(t, ofType(full(own), c.typeID))))
		}
		// w's own items: those of the type_id sized, the others after, so
		// that the full list is larger.
		pool, others := data[:len(data)-100], ofType(data[len(data)-100:], "jira")
		if c.typeID != "" {
			pool = ofType(pool, c.typeID)
		}
		for _, target := range []int{ropeLimit - 1, ropeLimit, ropeLimit + 1, 3*ropeLimit + 17} {
			t.Run(fmt.Sprintf("%s/%d", c.name, target), func(t *testing.T) {
				own := padTo(t, upTo(pool, target, size), target, size)
				if c.typeID != "" {
					own = append(own, others...)
				}
				s, err := workspace.New([]workspace.Spec{{ID: "src", Integrations: check(t, c.src)}, {ID: "w", Integrations: check(t, own)}})
				if err != nil {
					t.Fatal(err)
				}
				snap := s.Get("w").Snapshot()
				for _, typeID := range []string{c.typeID, "", "jira", "nope"} {
					want := joined(check(t, ofType(full(own), typeID)))
					if typeID == c.typeID && len(want) != target {
						t.Fatalf("type_id %q: the list is %d bytes, want %d", typeID, len(want), target)
					}
					if got := served(t, snap.List(typeID)); !bytes.Equal(got, want) {
						t.Fatalf("type_id %q: recorded body (%d bytes) differs from the assembly (%d bytes)", typeID, len(got), len(want))
					}
					// Written in 64 KiB chunks, whole or from the rope; a
					// full list's pieces of 64 KiB or more go out as they
					// are held, between the head's and the tail's writes.
					d := &discardWriter{h: http.Header{}}
					_ = snap.List(typeID).VisitListIntegrationsResponse(d)
					w := (len(want) + ropeLimit - 1) / ropeLimit
					if typeID == "" && len(want) > ropeLimit {
						if d.writes < 2 || d.writes > w+2 {
							t.Errorf("full list: %d bytes in %d writes, want 2 to %d", len(want), d.writes, w+2)
						}
					} else if d.writes != w {
						t.Errorf("type_id %q: %d bytes in %d writes, want %d", typeID, len(want), d.writes, w)
					}
					if got := servedReal(t, snap, typeID); !bytes.Equal(got, want) {
						t.Fatalf("type_id %q: body over a connection (%d bytes) differs from the assembly (%d bytes)", typeID, len(got), len(want))
					}
					if err := op.ValidateResponse(nil, http.StatusOK, http.Header{"Content-Type": {"application/json"}}, want); err != nil {
						t.Fatalf("type_id %q: %v", typeID, err)
					}
				}
			})
		}
	}
}

// failingWriter fails every write after the first: a client gone.
type failingWriter struct {
	h      http.Header
	writes int
}

func (f *failingWriter) Header() http.Header { return f.h }
func (f *failingWriter) WriteHeader(int)     {}
func (f *failingWriter) Write(p []byte) (int, error) {
	f.writes++
	if f.writes > 1 {
		return 0, errors.New("gone")
	}
	return len(p), nil
}

// TestRopeStopsWhenClientGone: a rope's answer is written in 64 KiB
// chunks, and the first failed write ends it.
func TestRopeStopsWhenClientGone(t *testing.T) {
	items := check(t, benchdata.Integrations(2000))
	s, err := workspace.New([]workspace.Spec{{ID: "w", Integrations: items}})
	if err != nil {
		t.Fatal(err)
	}
	d := &discardWriter{h: http.Header{}}
	if err := s.Get("w").Snapshot().List("").VisitListIntegrationsResponse(d); err != nil {
		t.Fatal(err)
	}
	if want := (len(joined(items)) + ropeLimit - 1) / ropeLimit; d.writes < 2 || d.writes > want+2 || fmt.Sprint(d.bytes) != d.h.Get("Content-Length") {
		t.Errorf("%d writes of %d bytes in all (Content-Length %s), want 2 to %d writes", d.writes, d.bytes, d.h.Get("Content-Length"), want+2)
	}
	f := &failingWriter{h: http.Header{}}
	if err := s.Get("w").Snapshot().List("").VisitListIntegrationsResponse(f); err != nil {
		t.Fatal(err)
	}
	if f.writes != 2 {
		t.Errorf("%d writes, want 2: the answer goes on after a failed write", f.writes)
	}
}

// TestDuplicateIDs: items judged apart may repeat an id; each repeat names
// the latest earlier item with it.
func TestDuplicateIDs(t *testing.T) {
	x := check(t, []generated.Integration{item(idX, "t", out())})
	y := check(t, []generated.Integration{item(idY, "t", out())})
	_, err := workspace.New([]workspace.Spec{{ID: "w", Integrations: slices.Concat(x, y, x, x, y)}})
	var fe *fixtures.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v", err)
	}
	var got []string
	for _, p := range fe.Problems {
		got = append(got, fmt.Sprintf("%d %s", p.Index, p.Reason))
	}
	want := []string{
		"2 duplicate: integrations[0] has the same id",
		"3 duplicate: integrations[2] has the same id",
		"4 duplicate: integrations[1] has the same id",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
