package workspace

import (
	"bufio"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/fixtures"
	"github.com/torqapi/integrations/internal/validate"
)

// Framing of a list body: exactly what json.Encoder writes around the items
// of a generated.IntegrationList (Encode ends with a newline).
const (
	listHead = `{"integrations":[`
	listTail = "]}\n"
)

// maxMaterialised is the largest list body held as one []byte, written in
// one Write: a test's workspace (the default one is 14 items, about 6 KB)
// is far below. A larger body is a rope of the items' own bytes, written
// through a buffer of ropeChunk bytes.
const maxMaterialised = 64 << 10

// ropeChunk is the size of the writes a rope's answer makes.
const ropeChunk = 64 << 10

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
// It is either materialised (body, at most maxMaterialised bytes) or a rope
// (body nil): listHead, the encodings of the rope's items separated by
// commas, and listTail, never held as one []byte.
type listBody struct {
	body          []byte
	rope          rope
	contentLength []string // of the whole answer, either way
}

// rope is a list of items of one workspace, its own items then those shared
// into it, without a copy of their bytes: it holds the slices of items the
// workspace holds anyway.
type rope struct {
	own []fixtures.Item
	in  []derived
	// idx, when not nil, are the rope's items, as indices into own then in
	// (a type_id's list); nil means all of own then all of in (the full
	// list). Four bytes an item, where a slice header would be 24.
	idx []int32
	// runs, for the full list, are the middle of its body in the pieces
	// it lies in (fixtures.Runs: a batch of items judged together is one
	// piece, commas included), then the shared-in items with their
	// commas: most of the body is written from where it is held.
	runs [][]byte
}

// item returns the encoding of the i-th of own then in.
func (r *rope) item(i int) []byte {
	if i < len(r.own) {
		return r.own[i].JSON()
	}
	return r.in[i-len(r.own)].json
}

// comma separates the pieces of a rope.
var comma = []byte{','}

// jsonContentType is shared by every answer; net/http only reads it.
var jsonContentType = []string{"application/json"}

// ropeWriters are the buffers ropes are written through.
var ropeWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, ropeChunk) }}

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
	if b.body != nil {
		_, _ = w.Write(b.body)
		return nil
	}
	bw := ropeWriters.Get().(*bufio.Writer)
	bw.Reset(w)
	b.rope.writeTo(bw, w)
	_ = bw.Flush()
	bw.Reset(nil) // the pool keeps no ResponseWriter
	ropeWriters.Put(bw)
	return nil
}

// writeTo writes the rope's body through bw, a buffer over w, so that w
// sees writes of bw's size rather than one per item; a full list's pieces
// of at least that size go to w directly, uncopied. It stops at the first
// failed write.
func (r *rope) writeTo(bw *bufio.Writer, w io.Writer) {
	if _, err := bw.WriteString(listHead); err != nil {
		return
	}
	if r.runs != nil {
		for _, p := range r.runs {
			if len(p) >= ropeChunk {
				// A large piece goes out as it is held, uncopied.
				if bw.Flush() != nil {
					return
				}
				if _, err := w.Write(p); err != nil {
					return
				}
				continue
			}
			if _, err := bw.Write(p); err != nil {
				return
			}
		}
		_, _ = bw.WriteString(listTail)
		return
	}
	n := len(r.own) + len(r.in)
	if r.idx != nil {
		n = len(r.idx)
	}
	for k := range n {
		var p []byte
		switch {
		case r.idx != nil:
			p = r.item(int(r.idx[k]))
		case k < len(r.own):
			p = r.own[k].JSON()
		default:
			p = r.in[k-len(r.own)].json
		}
		if k > 0 {
			_ = bw.WriteByte(',') // an error stays in bw: Write reports it
		}
		if _, err := bw.Write(p); err != nil {
			return
		}
	}
	_, _ = bw.WriteString(listTail)
}

// bodySize is the size of a list body of n items whose encodings take
// size bytes.
func bodySize(size, n int) int {
	return len(listHead) + size + max(n-1, 0) + len(listTail)
}

// newBody is the answer of the rope r, whose body is size bytes:
// materialised when small enough, else the rope itself.
func newBody(r rope, size int) *listBody {
	b := &listBody{contentLength: []string{strconv.Itoa(size)}}
	if size > maxMaterialised {
		if r.idx == nil {
			r.runs = slices.Collect(fixtures.Runs(r.own))
			for i := range r.in {
				if i > 0 || len(r.own) > 0 {
					r.runs = append(r.runs, comma)
				}
				r.runs = append(r.runs, r.in[i].json)
			}
		}
		b.rope = r
		return b
	}
	body := make([]byte, 0, size)
	body = append(body, listHead...)
	add := func(k int, p []byte) {
		if k > 0 {
			body = append(body, ',')
		}
		body = append(body, p...)
	}
	if r.idx == nil {
		for i := range len(r.own) + len(r.in) {
			add(i, r.item(i))
		}
	} else {
		for k, i := range r.idx {
			add(k, r.item(int(i)))
		}
	}
	b.body = append(body, listTail...)
	return b
}

// buildSnapshot makes the bodies of a workspace: its own items followed by
// the items shared into it. Large bodies are ropes of the items' bytes,
// small ones copies of them (see maxMaterialised).
func buildSnapshot(own *ownSet, in []derived) *Snapshot {
	all := rope{own: own.items, in: in}
	n := len(own.items) + len(in)
	typeOf := func(i int) string {
		if i < len(own.items) {
			return own.items[i].TypeID()
		}
		return in[i-len(own.items)].typeID
	}
	s := &Snapshot{count: n, empty: newBody(rope{}, bodySize(0, 0))}
	size := 0
	for i := range n {
		size += len(all.item(i))
	}
	s.all = newBody(all, bodySize(size, n))
	// Group by type_id; counts first, so that each list of indices is
	// allocated once, at its size.
	type group struct {
		idx         []int32
		count, size int
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
		g.count++
		g.size += len(all.item(i))
	}
	s.byType = make(map[string]*listBody, len(groups))
	for t, g := range groups {
		if g.count == n {
			s.byType[t] = s.all // one type only: the same body
			continue
		}
		g.idx = make([]int32, 0, g.count)
	}
	for i := range n {
		if g := groups[typeOf(i)]; g != nil && g.idx != nil {
			g.idx = append(g.idx, int32(i))
		}
	}
	for t, g := range groups {
		if g.idx != nil {
			s.byType[t] = newBody(rope{own: all.own, in: all.in, idx: g.idx}, bodySize(g.size, g.count))
		}
	}
	return s
}
