// Package workspace holds the stub's workspaces: each one's integrations,
// static tokens, denied tokens and OAuth2 clients, and the immutable
// Snapshot of every 200 body its list can answer.
//
// Validation happens once, by construction: a Store takes integrations only
// as fixtures.Item values, which internal/fixtures makes by judging each
// item once against the contract and encoding it once. Bodies are the
// concatenation of those encodings, byte for byte what the generated
// encoder would write, and nothing is validated again.
//
// Sharing is coherent across workspaces. An integration of workspace A with
// sharing_data {outgoing, [B, ...]} appears in B's list as the same item
// with sharing_data {incoming, [A]}, after B's own items (sources in store
// order, each source's items in its order). B may hold that item itself,
// exactly as derived, and then serves it where it holds it; any other item
// of B with the same id, an item shared into B by two workspaces, or an
// incoming item of B that names an existing workspace which does not share
// it, is an error naming both workspaces and the item. A workspace id that
// no workspace has is fine and derives nothing: Torq's other workspaces are
// not modelled. An integration shared with its own workspace is an error.
//
// A Store keeps all workspaces as one immutable state behind an atomic
// pointer: readers never lock. Each change builds a new state and swaps it
// in, or fails and changes nothing; only the workspaces whose served data
// changes get new snapshots.
package workspace

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/torqapi/integrations/internal/fixtures"
)

// Spec describes one workspace: its id, credentials and own integrations.
// It is fixtures.Workspace, so a fixture file's workspaces are served as
// they load.
type Spec = fixtures.Workspace

// Client is an OAuth2 client of a workspace.
type Client = fixtures.Client

// maxIDLen bounds a workspace id.
const maxIDLen = 128

// Workspace is one workspace in one state of a Store; immutable.
type Workspace struct {
	id    string
	own   *ownSet
	creds creds
	cands []derived // everything shared into it, before removing what it holds itself
	in    []derived // what it serves of cands
	snap  *Snapshot
}

// ID returns the workspace id.
func (w *Workspace) ID() string { return w.id }

// Snapshot returns the workspace's bodies.
func (w *Workspace) Snapshot() *Snapshot { return w.snap }

// Summary describes a workspace for a listing.
type Summary struct {
	// ID is the workspace id.
	ID string
	// Integrations is how many integrations its full list serves: its own
	// and those shared into it.
	Integrations int
}

// Created is what Create made.
type Created struct {
	// ID is the workspace id, generated when the spec had none.
	ID string
	// Token and Client are the credentials generated when the spec had no
	// token, denied token or client; zero otherwise. They are shown once:
	// the store keeps only their digests.
	Token  string
	Client Client
}

// NotFoundError is an operation on a workspace the store does not hold
// (google.rpc code NOT_FOUND).
type NotFoundError struct{ ID string }

func (e *NotFoundError) Error() string { return fmt.Sprintf("workspace: no workspace %q", e.ID) }

// ExistsError is a Create with an id the store already holds (code
// ALREADY_EXISTS).
type ExistsError struct{ ID string }

func (e *ExistsError) Error() string {
	return fmt.Sprintf("workspace: workspace %q already exists", e.ID)
}

// state is all workspaces at one moment; immutable once published.
type state struct {
	order   []string
	ws      map[string]*Workspace
	tokens  map[digest]tokenEntry
	clients map[string]clientEntry
}

// Store holds the workspaces. It is safe for concurrent use: reads are a
// pointer load and a map lookup; changes are serialised and atomic.
type Store struct {
	mu    sync.Mutex // serialises changes
	cur   atomic.Pointer[state]
	start *state
}

// New checks specs and returns a store holding them, in order; that state
// is also what Reset returns to. Workspaces without credentials are kept
// without (the caller gives the default workspace its flags' credentials).
// The error is a *fixtures.Error whose problems are located at
// "workspaces[i]". The store keeps each spec's Integrations slice and
// serves the Items' bytes as they are: the caller must not change the
// slice afterwards (New, Create and Replace alike).
func New(specs []Spec) (*Store, error) {
	var all []fixtures.Problem
	order := make([]string, 0, len(specs))
	changes := make(map[string]*change, len(specs))
	for i := range specs {
		label := fmt.Sprintf("workspaces[%d]", i)
		id := specs[i].ID
		if _, dup := changes[id]; dup {
			all = append(all, fixtures.Problem{Workspace: label, WorkspaceID: id, Index: -1, Field: "id", Reason: "duplicate: another workspace has the same id"})
			continue
		}
		ch, problems := newChange(&specs[i], label)
		all = append(all, problems...)
		order = append(order, id)
		changes[id] = ch
	}
	if len(all) > 0 {
		return nil, newError(all)
	}
	st, err := build(nil, order, changes)
	if err != nil {
		return nil, err
	}
	s := &Store{start: st}
	s.cur.Store(st)
	return s, nil
}

// change is a workspace's new data in a build; nil in the map: deleted.
type change struct {
	own   *ownSet
	creds creds
	label string // problems' Workspace
}

// newChange checks one spec: its id, credentials and items.
func newChange(spec *Spec, label string) (*change, []fixtures.Problem) {
	var problems []fixtures.Problem
	if !validID(spec.ID) {
		problems = append(problems, fixtures.Problem{Index: -1, Field: "id",
			Reason: fmt.Sprintf("must be 1-%d characters of A-Z a-z 0-9 . _ ~ -", maxIDLen)})
	}
	c, ps := newCreds(spec)
	problems = append(problems, ps...)
	own, ps := newOwnSet(spec.ID, spec.Integrations)
	problems = append(problems, ps...)
	for i := range problems {
		problems[i].Workspace, problems[i].WorkspaceID = label, spec.ID
	}
	return &change{own: own, creds: c, label: label}, problems
}

func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == '~', c == '-':
		default:
			return false
		}
	}
	return true
}

// newError sorts nothing: problems come in the order they were found,
// capped like a fixture file's.
func newError(problems []fixtures.Problem) *fixtures.Error {
	e := &fixtures.Error{}
	for _, p := range problems {
		if len(e.Problems) < fixtures.MaxProblems {
			e.Problems = append(e.Problems, p)
		} else {
			e.Omitted++
		}
	}
	return e
}

// Get returns the workspace id in the current state, or nil.
func (s *Store) Get(id string) *Workspace { return s.cur.Load().ws[id] }

// List describes every workspace, in the order they were added.
func (s *Store) List() []Summary {
	st := s.cur.Load()
	out := make([]Summary, len(st.order))
	for i, id := range st.order {
		out[i] = Summary{ID: id, Integrations: st.ws[id].snap.Len()}
	}
	return out
}

// Create adds a workspace. An empty spec.ID gets a generated one ("ws-" and
// 8 hex digits); an id the store holds is an *ExistsError. A spec with no
// credentials at all gets a generated token and client, returned in
// Created. Data errors are a *fixtures.Error with paths like
// "integrations[2].id" and "tokens[0]".
func (s *Store) Create(spec Spec) (Created, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.cur.Load()
	if spec.ID == "" {
		for spec.ID == "" || cur.ws[spec.ID] != nil {
			spec.ID = "ws-" + randomHex(4)
		}
	} else if cur.ws[spec.ID] != nil {
		return Created{}, &ExistsError{ID: spec.ID}
	}
	out := Created{ID: spec.ID}
	if len(spec.Tokens) == 0 && len(spec.DeniedTokens) == 0 && len(spec.Clients) == 0 {
		out.Token = "torq-ws-" + randomHex(16)
		out.Client = Client{ID: "client-" + randomHex(8), Secret: randomHex(16)}
		for cur.clients[out.Client.ID].workspace != "" {
			out.Client.ID = "client-" + randomHex(8)
		}
		spec.Tokens, spec.Clients = []string{out.Token}, []Client{out.Client}
	}
	ch, problems := newChange(&spec, "")
	if len(problems) > 0 {
		return Created{}, newError(problems)
	}
	next, err := build(cur, append(slices.Clip(cur.order), spec.ID), map[string]*change{spec.ID: ch})
	if err != nil {
		return Created{}, err
	}
	s.cur.Store(next)
	return out, nil
}

// Replace sets the own integrations of workspace id; its credentials stay.
// Errors: *NotFoundError, or a *fixtures.Error with paths like
// "integrations[2]".
func (s *Store) Replace(id string, items []fixtures.Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.cur.Load()
	w := cur.ws[id]
	if w == nil {
		return &NotFoundError{ID: id}
	}
	own, problems := newOwnSet(id, items)
	if len(problems) > 0 {
		return newError(problems)
	}
	next, err := build(cur, cur.order, map[string]*change{id: {own: own, creds: w.creds}})
	if err != nil {
		return err
	}
	s.cur.Store(next)
	return nil
}

// Delete removes workspace id, its credentials and what it shared into
// others. The error is a *NotFoundError.
func (s *Store) Delete(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.cur.Load()
	if cur.ws[id] == nil {
		return &NotFoundError{ID: id}
	}
	order := slices.DeleteFunc(slices.Clone(cur.order), func(w string) bool { return w == id })
	next, err := build(cur, order, map[string]*change{id: nil})
	if err != nil {
		// Removing a workspace removes sharing, never contradicts it.
		return err
	}
	s.cur.Store(next)
	return nil
}

// Reset returns the store to the state New made.
func (s *Store) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur.Store(s.start)
}

// WorkspaceForToken says which workspace a static token acts for, and
// whether it is denied (authenticates, answers 403). The token is looked up
// by its SHA-256 digest and the match confirmed in constant time: the time
// taken depends on the digest only, which says nothing usable about the
// token, and the lookup does not grow with the number of workspaces.
func (s *Store) WorkspaceForToken(token string) (id string, denied bool, ok bool) {
	return s.WorkspaceForDigest(sha256Sum(token))
}

// WorkspaceForDigest is WorkspaceForToken for a token already hashed
// (SHA-256), as internal/auth hashes each bearer token once.
func (s *Store) WorkspaceForDigest(d [sha256.Size]byte) (id string, denied bool, ok bool) {
	e, found := s.cur.Load().tokens[d]
	if !found || !sameDigest(e.digest, d) {
		return "", false, false
	}
	return e.workspace, e.denied, true
}

// ClientWorkspace checks an OAuth2 client's secret (in constant time, over
// digests) and says which workspace the client belongs to.
func (s *Store) ClientWorkspace(clientID, secret string) (id string, ok bool) {
	e, found := s.cur.Load().clients[clientID]
	d := sha256Sum(secret)
	if !sameDigest(e.secret, d) || !found {
		return "", false
	}
	return e.workspace, true
}

// WorkspaceForClient says which workspace a client id belongs to, for a
// token the endpoint issued to it (already verified by its signature).
func (s *Store) WorkspaceForClient(clientID string) (id string, ok bool) {
	e, found := s.cur.Load().clients[clientID]
	return e.workspace, found
}

// build makes the state after changes from prev (nil: the empty state),
// with order the workspaces of the new state. Only workspaces whose data or
// whose shared-in items may change are recomputed.
func build(prev *state, order []string, changes map[string]*change) (*state, error) {
	if prev == nil {
		prev = &state{}
	}
	next := &state{
		order:   order,
		ws:      make(map[string]*Workspace, len(order)),
		tokens:  make(map[digest]tokenEntry, len(prev.tokens)+4),
		clients: make(map[string]clientEntry, len(prev.clients)+2),
	}
	for _, id := range order {
		if ch := changes[id]; ch != nil {
			next.ws[id] = &Workspace{id: id, own: ch.own, creds: ch.creds}
		} else {
			next.ws[id] = prev.ws[id]
		}
	}
	var problems []fixtures.Problem
	// blame files a problem against a changed workspace: the state before
	// was coherent, so every conflict involves one.
	blame := func(ws string, p fixtures.Problem) {
		if ch := changes[ws]; ch != nil {
			p.Workspace = ch.label
		}
		p.WorkspaceID = ws
		problems = append(problems, p)
	}
	changed := func(ws string) bool { _, ok := changes[ws]; return ok }

	// Credentials: one workspace per token and per client id.
	for _, id := range order {
		w := next.ws[id]
		add := func(d digest, denied bool, field string) {
			e, dup := next.tokens[d]
			switch {
			case !dup:
				next.tokens[d] = tokenEntry{digest: d, workspace: id, denied: denied, field: field}
			case e.workspace == id:
				// Listed twice, or both accepted and denied: denied wins.
				e.denied = e.denied || denied
				next.tokens[d] = e
			case changed(id):
				blame(id, fixtures.Problem{Index: -1, Field: field, Reason: fmt.Sprintf("the same token as workspace %q's %s: a token acts for one workspace", e.workspace, e.field)})
			default:
				blame(e.workspace, fixtures.Problem{Index: -1, Field: e.field, Reason: fmt.Sprintf("the same token as workspace %q's %s: a token acts for one workspace", id, field)})
			}
		}
		for i, d := range w.creds.tokens {
			add(d, false, fmt.Sprintf("tokens[%d]", i))
		}
		for i, d := range w.creds.denied {
			add(d, true, fmt.Sprintf("denied_tokens[%d]", i))
		}
		for i, c := range w.creds.clients {
			field := fmt.Sprintf("clients[%d].id", i)
			e, dup := next.clients[c.id]
			switch {
			case !dup:
				next.clients[c.id] = clientEntry{secret: c.secret, workspace: id, field: field}
			case changed(id):
				blame(id, fixtures.Problem{Index: -1, Field: field, Reason: fmt.Sprintf("workspace %q has a client with the same id", e.workspace)})
			default:
				blame(e.workspace, fixtures.Problem{Index: -1, Field: e.field, Reason: fmt.Sprintf("workspace %q has a client with the same id", id)})
			}
		}
	}

	// The workspaces whose shared-in items or sharing checks may change.
	affected := make(map[string]bool)
	mark := func(ids []string) {
		for _, id := range ids {
			if next.ws[id] != nil {
				affected[id] = true
			}
		}
	}
	for id, ch := range changes {
		if ch != nil {
			affected[id] = true
			mark(ch.own.targets)
		}
		if old := prev.ws[id]; old != nil {
			mark(old.own.targets)
		}
	}
	for _, id := range order {
		for _, src := range next.ws[id].own.sources {
			if changed(src) {
				affected[id] = true
			}
		}
	}

	for _, b := range order {
		if !affected[b] {
			continue
		}
		next.share(prev, b, changes, blame)
	}
	if len(problems) > 0 {
		return nil, newError(problems)
	}
	return next, nil
}

// share computes what is shared into workspace b, checks it against b's
// own items, and builds b's snapshot when what it serves changed. Problems
// go through blame, against a workspace the build changes.
func (next *state) share(prev *state, b string, changes map[string]*change, blame func(string, fixtures.Problem)) {
	changed := func(ws string) bool { _, ok := changes[ws]; return ok }
	old := prev.ws[b]
	w := next.ws[b]
	if !changed(b) {
		c := *w // a new value: states never share a changing Workspace
		w = &c
		next.ws[b] = w
	}
	var cands []derived
	for _, a := range next.order {
		src := next.ws[a]
		if a == b || !slices.Contains(src.own.targets, b) {
			continue
		}
		if !changed(a) && old != nil {
			if reused := fromSource(old.cands, a); reused != nil {
				cands = append(cands, reused...)
				continue
			}
		}
		for _, sh := range src.own.shared {
			if !sh.incoming && slices.Contains(sh.workspaces, b) {
				cands = append(cands, derive(a, src.own, int(sh.index)))
			}
		}
	}
	byID := make(map[uuid.UUID]int, len(cands))
	for k, c := range cands {
		j, dup := byID[c.id]
		if !dup {
			byID[c.id] = k
			continue
		}
		first := cands[j]
		culprit, other := c, first
		if !changed(c.source) {
			culprit, other = first, c
		}
		if !changed(culprit.source) {
			// Both shared it before b existed: b's creation is the conflict.
			blame(b, fixtures.Problem{Index: -1, Reason: fmt.Sprintf("workspaces %q (integrations[%d]) and %q (integrations[%d]) both share integration %s with this workspace", first.source, first.index, c.source, c.index, c.id)})
			continue
		}
		blame(culprit.source, fixtures.Problem{Index: culprit.index, ID: c.id.String(), Field: "sharing_data.workspace_ids",
			Reason: fmt.Sprintf("shared with workspace %q, which workspace %q already shares an integration with this id with (its integrations[%d])", b, other.source, other.index)})
	}
	held := make([]bool, len(cands))
	rest := w.own.shared // the shared own items from j on
	for j := range w.own.items {
		id := w.own.items[j].ID()
		k, shared := byID[id]
		if shared {
			c := cands[k]
			if bytes.Equal(w.own.json(j), c.json) {
				held[k] = true
			} else if changed(b) {
				blame(b, fixtures.Problem{Index: j, ID: id.String(),
					Reason: fmt.Sprintf("workspace %q shares an integration with this id with this workspace (its integrations[%d]): this one must be that item with sharing_data {\"direction\": \"incoming\", \"workspace_ids\": [%q]}, or be left out", c.source, c.index, c.source)})
			} else {
				blame(c.source, fixtures.Problem{Index: c.index, ID: id.String(), Field: "sharing_data.workspace_ids",
					Reason: fmt.Sprintf("shared with workspace %q, whose integrations[%d] has this id and is not this item incoming from this workspace", b, j)})
			}
		}
		if len(rest) == 0 || int(rest[0].index) != j {
			continue // not shared
		}
		sh := &rest[0]
		rest = rest[1:]
		if !sh.incoming {
			continue
		}
		for _, s := range sh.workspaces {
			if next.ws[s] == nil || s == b || (shared && cands[k].source == s) {
				continue
			}
			if changed(b) {
				blame(b, fixtures.Problem{Index: j, ID: id.String(), Field: "sharing_data.workspace_ids",
					Reason: fmt.Sprintf("incoming from workspace %q, which does not share an integration with this id with this workspace", s)})
			} else {
				blame(s, fixtures.Problem{Index: -1, Field: "integrations",
					Reason: fmt.Sprintf("workspace %q's integrations[%d] (id %s) is incoming from this workspace, which does not share it with %q", b, j, id, b)})
			}
		}
	}
	w.cands = cands
	w.in = w.in[:0:0]
	for k, c := range cands {
		if !held[k] {
			w.in = append(w.in, c)
		}
	}
	if old != nil && old.own == w.own && old.snap != nil && sameDerived(old.in, w.in) {
		w.snap = old.snap
	} else {
		w.snap = buildSnapshot(w.own, w.in)
	}
}

// fromSource returns the candidates of source in cands, nil when none.
func fromSource(cands []derived, source string) []derived {
	var out []derived
	for _, c := range cands {
		if c.source == source {
			out = append(out, c)
		}
	}
	return out
}

func sha256Sum(s string) digest { return sha256.Sum256([]byte(s)) }

func sameDerived(a, b []derived) bool {
	return slices.EqualFunc(a, b, func(x, y derived) bool {
		return x.source == y.source && x.id == y.id && bytes.Equal(x.json, y.json)
	})
}

// Integrations returns the workspace's own integrations as stored, each its
// JSON encoding (shared-in items are not its own). The caller must not
// modify them.
func (w *Workspace) Integrations() [][]byte {
	out := make([][]byte, len(w.own.items))
	for i := range w.own.items {
		out[i] = w.own.json(i)
	}
	return out
}
