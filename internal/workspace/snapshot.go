package workspace

import (
	"net/http"
	"strconv"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/validate"
)

// Framing of a list body: exactly what json.Encoder writes around the items
// of a generated.IntegrationList (Encode ends with a newline).
const (
	listHead = `{"integrations":[`
	listTail = "]}\n"
)

// Snapshot is every 200 body of ListIntegrations one workspace can answer,
// built once per change of its data and immutable after: the full list,
// the list of each type_id its integrations have, and the empty list.
// Bodies are assembled from items judged and encoded once
// (fixtures.Item), so none is validated or encoded again.
type Snapshot struct {
	all    *listBody
	byType map[string]*listBody
	empty  *listBody
	count  int
}

// List returns the answer for a type_id filter: "" is the full list, an
// exact type_id its list, any other type_id the empty list (as Torq
// filters). An item with no type_id is in the full list only.
func (s *Snapshot) List(typeID string) generated.ListIntegrationsResponseObject {
	if typeID == "" {
		return s.all
	}
	if b, ok := s.byType[typeID]; ok {
		return b
	}
	return s.empty
}

// Len is how many integrations the full list holds.
func (s *Snapshot) Len() int { return s.count }

// listBody is one precomputed 200 answer of ListIntegrations, its own
// strict response object so that the handler answers without encoding.
type listBody struct {
	body          []byte
	contentLength []string
}

// jsonContentType is shared by every answer; net/http only reads it.
var jsonContentType = []string{"application/json"}

// VisitListIntegrationsResponse writes the precomputed bytes. They are
// correct by construction (assembled from judged items), so they are marked
// prevalidated: the stub's response checker writes them straight through.
func (b *listBody) VisitListIntegrationsResponse(w http.ResponseWriter) error {
	validate.Prevalidated(w)
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = b.contentLength
	w.WriteHeader(http.StatusOK)
	// A failed write means the client is gone: the answer has started and
	// there is no one left to tell.
	_, _ = w.Write(b.body)
	return nil
}

func newBody(b []byte) *listBody {
	return &listBody{body: b, contentLength: []string{strconv.Itoa(len(b))}}
}

// span is one item's encoding within a body: body[start:end].
type span struct{ start, end int }

// assemble writes the list body of the given item encodings.
func assemble(size int, n int, item func(i int) []byte) []byte {
	b := make([]byte, 0, size+len(listHead)+len(listTail)+max(n-1, 0))
	b = append(b, listHead...)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, item(i)...)
	}
	return append(b, listTail...)
}

// buildSnapshot assembles the bodies of a workspace: its own items (spans
// of own.body, which is their full list) followed by the items shared into
// it. When nothing is shared in, own.body is the full list as is.
func buildSnapshot(own *ownSet, in []derived) *Snapshot {
	n := len(own.items) + len(in)
	enc := func(i int) []byte {
		if i < len(own.items) {
			sp := own.items[i].span
			return own.body[sp.start:sp.end]
		}
		return in[i-len(own.items)].json
	}
	typeOf := func(i int) string {
		if i < len(own.items) {
			return own.items[i].typeID
		}
		return in[i-len(own.items)].typeID
	}
	s := &Snapshot{count: n, empty: newBody([]byte(listHead + listTail))}
	if len(in) == 0 {
		s.all = newBody(own.body)
	} else {
		size := len(own.body)
		for i := range in {
			size += len(in[i].json) + 1
		}
		s.all = newBody(assemble(size, n, enc))
	}
	// Group by type_id in order of first appearance; sizes first, so that
	// each body is allocated once.
	type group struct {
		idx  []int
		size int
	}
	groups := make(map[string]*group)
	for i := range n {
		t := typeOf(i)
		if t == "" {
			continue // only in the full list: an empty type_id is refused before the handler
		}
		g := groups[t]
		if g == nil {
			g = &group{}
			groups[t] = g
		}
		g.idx = append(g.idx, i)
		g.size += len(enc(i))
	}
	s.byType = make(map[string]*listBody, len(groups))
	for t, g := range groups {
		if len(g.idx) == n {
			s.byType[t] = s.all // one type only: the same bytes
			continue
		}
		s.byType[t] = newBody(assemble(g.size, len(g.idx), func(i int) []byte { return enc(g.idx[i]) }))
	}
	return s
}
