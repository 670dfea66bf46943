// Package script holds the stub's scripted answers: per-caller queues of
// steps that tests set up to get exactly "503, then 503, then success",
// every run.
//
// A Script matches requests by workspace and, optionally, by token and by
// query parameters; each matching request consumes its next step. An
// exhausted script stops matching, or starts over when it repeats. Scripts
// are tried in the order they were added, and a request consumes a step of
// the first script that matches it, so two tests that key their scripts by
// their own workspace or token never consume each other's steps.
//
// A Set is safe for concurrent use; consuming a step is atomic, so N
// concurrent requests consume exactly N steps.
package script

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fault is a step that breaks the exchange below HTTP.
type Fault string

// The faults a step can inject.
const (
	// FaultReset closes the connection without an answer (a TCP reset
	// where the connection allows it).
	FaultReset Fault = "reset"
	// FaultTruncate starts the normal 200, with its full Content-Length,
	// and closes the connection halfway through the body.
	FaultTruncate Fault = "truncate"
	// FaultDribble writes the normal answer a chunk at a time, Delay (or
	// DefaultDribbleInterval) apart.
	FaultDribble Fault = "dribble"
	// FaultStall sends nothing for Delay (or DefaultStall), then closes the
	// connection.
	FaultStall Fault = "stall"
)

// Bounds of a step, so that a script cannot hold a connection or the
// stub's memory without limit.
const (
	MaxDelay               = 10 * time.Minute
	DefaultStall           = 30 * time.Second
	DefaultDribbleInterval = 100 * time.Millisecond
	MaxSteps               = 1000
	MaxScripts             = 10000
	MaxMessage             = 1024
)

// Statuses are the HTTP statuses a step can answer: every status
// grpc-gateway's code table yields, and Torq's two failure shapes outside
// it, 302 (an expired token) and 502 (its edge's HTML page).
var Statuses = []int{302, 400, 401, 403, 404, 409, 429, 499, 500, 501, 502, 503, 504}

// Step is one scripted answer. Exactly one of Status, Fault and Pass is
// set, or none of them with a Delay (the normal answer, late).
type Step struct {
	// Status answers with that HTTP status and the realistic body the stub
	// gives it (a google.rpc.Status; for 502 an HTML page; for 302 a
	// redirect).
	Status int
	// Message replaces the Status's message.
	Message string
	// RetryAfter, with 429 or 503, sets Retry-After and a
	// google.rpc.RetryInfo.
	RetryAfter time.Duration
	// Body is "html" (the default for 502, the only status it goes with).
	Body string
	// Delay waits before the answer (with a status, pass or alone), between
	// chunks (dribble), or before closing (stall).
	Delay time.Duration
	// Fault breaks the exchange.
	Fault Fault
	// Pass answers normally, counting as a step.
	Pass bool
}

// Match says which requests a script answers. Workspace is required; Token
// and Query narrow it. Query values compare with the request's parameters
// under their declared names (after grpc-gateway's aliases).
type Match struct {
	Workspace string
	Token     string
	Query     map[string]string
}

// Script is a match and its steps.
type Script struct {
	Match
	Steps  []Step
	Repeat bool
}

// State is a script as it stands: its id, what it matches (the token by
// its fingerprint, never itself), and the steps it has left.
type State struct {
	ID        string
	Workspace string
	// Token is "token#<first 8 hex digits of its SHA-256>", or "".
	Token     string
	Query     map[string]string
	StepsLeft []Step
	Repeat    bool
	Consumed  int
}

// Request is what a script can match a request by.
type Request struct {
	Workspace string
	// Token is the bearer token the request presented; it is compared by
	// digest and never kept.
	Token string
	// RawQuery is the request's query, canonical (grpc-gateway's aliases
	// resolved to the declared names); it is parsed only for scripts that
	// match by query.
	RawQuery string
}

// Hit is the step a request consumed.
type Hit struct {
	ScriptID string
	// Index is the step's position in the script, from 0.
	Index int
	Step  Step
}

// Violation is one thing wrong with a script: the field, as a JSON path
// into the control API's body ("steps[1].delay"), and why.
type Violation struct {
	Field, Description string
}

// Error is a script that cannot be stored; nothing of it was.
type Error struct {
	Violations []Violation
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.Field + ": " + v.Description
	}
	return "script: " + strings.Join(parts, "; ")
}

// Check returns the script's problems as an *Error, or nil.
func Check(s Script) error {
	var vs []Violation
	add := func(field, desc string) { vs = append(vs, Violation{field, desc}) }
	if s.Workspace == "" {
		add("workspace", "required: a script answers the requests of one workspace")
	}
	switch n := len(s.Steps); {
	case n == 0:
		add("steps", "at least one step is required")
	case n > MaxSteps:
		add("steps", fmt.Sprintf("%d steps; at most %d", n, MaxSteps))
	}
	for i, st := range s.Steps {
		for _, v := range checkStep(st) {
			add("steps["+strconv.Itoa(i)+"]"+v.Field, v.Description)
		}
	}
	for k := range s.Query {
		if k == "" {
			add("query", "a parameter name is empty")
		}
	}
	if len(vs) > 0 {
		return &Error{Violations: vs}
	}
	return nil
}

// checkStep returns a step's problems, fields relative to the step
// (".status").
func checkStep(st Step) []Violation {
	var vs []Violation
	add := func(field, desc string) { vs = append(vs, Violation{field, desc}) }
	kinds := 0
	if st.Status != 0 {
		kinds++
		if !slices.Contains(Statuses, st.Status) {
			add(".status", fmt.Sprintf("%d is not a status the stub answers; supported: %s", st.Status, joinInts(Statuses)))
		}
	}
	if st.Fault != "" {
		kinds++
		switch st.Fault {
		case FaultReset, FaultTruncate, FaultDribble, FaultStall:
		default:
			add(".fault", fmt.Sprintf("%q is not a fault; supported: reset, truncate, dribble, stall", string(st.Fault)))
		}
	}
	if st.Pass {
		kinds++
	}
	switch {
	case kinds > 1:
		add("", "give one of status, fault and pass")
	case kinds == 0 && st.Delay == 0:
		add("", "empty step: give status, fault, pass or delay")
	}
	if st.Delay < 0 || st.Delay > MaxDelay {
		add(".delay", fmt.Sprintf("must be between 0 and %v", MaxDelay))
	}
	if st.RetryAfter != 0 {
		if st.Status != 429 && st.Status != 503 {
			add(".retry_after", "goes with status 429 or 503 only")
		}
		if st.RetryAfter < 0 || st.RetryAfter > time.Hour {
			add(".retry_after", "must be between 0 and 1h")
		}
	}
	if st.Body != "" && (st.Body != "html" || st.Status != 502) {
		add(".body", `only "html", with status 502`)
	}
	if st.Message != "" && (st.Status == 0 || st.Status == 302 || st.Status == 502) {
		add(".message", "goes with a status answered as a google.rpc.Status")
	}
	if len(st.Message) > MaxMessage {
		add(".message", fmt.Sprintf("longer than %d bytes", MaxMessage))
	}
	return vs
}

// ParseDuration reads a step's duration: a Go duration ("500ms", "2s"),
// or the protobuf JSON form grpc-gateway uses ("1.5s" is both).
func ParseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 500ms or 2s", s)
	}
	return d, nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// Set holds the scripts of one stub.
type Set struct {
	mu      sync.Mutex
	scripts []*entry     // in the order they were added
	n       atomic.Int64 // len(scripts), read without the lock
}

type entry struct {
	id       string
	match    Match
	digest   [sha256.Size]byte // of Match.Token, when given
	steps    []Step
	repeat   bool
	next     int
	consumed int
}

// Add checks s and stores it, returning its id; a script with problems is
// an *Error and nothing is stored.
func (set *Set) Add(s Script) (string, error) {
	if err := Check(s); err != nil {
		return "", err
	}
	e := &entry{id: newID(), match: s.Match, steps: slices.Clone(s.Steps), repeat: s.Repeat}
	if len(s.Query) > 0 {
		e.match.Query = make(map[string]string, len(s.Query))
		for k, v := range s.Query {
			e.match.Query[k] = v
		}
	}
	if s.Token != "" {
		e.digest = sha256.Sum256([]byte(s.Token))
		e.match.Token = "" // kept only as its digest
	}
	set.mu.Lock()
	defer set.mu.Unlock()
	if len(set.scripts) >= MaxScripts {
		return "", &Error{Violations: []Violation{{"steps", fmt.Sprintf("the stub holds %d scripts already, the most it keeps; delete some", MaxScripts)}}}
	}
	set.scripts = append(set.scripts, e)
	set.n.Store(int64(len(set.scripts)))
	return e.id, nil
}

func newID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "sc-" + hex.EncodeToString(b[:])
}

// Next consumes the next step of the first script that matches r.
func (set *Set) Next(r Request) (Hit, bool) {
	if set.n.Load() == 0 {
		// Most requests of most stubs: no script to consult.
		return Hit{}, false
	}
	set.mu.Lock()
	defer set.mu.Unlock()
	var query url.Values // parsed once, for the first script that needs it
	for _, e := range set.scripts {
		if e.next >= len(e.steps) || !e.matches(r, &query) {
			continue
		}
		h := Hit{ScriptID: e.id, Index: e.next, Step: e.steps[e.next]}
		e.next++
		e.consumed++
		if e.next == len(e.steps) && e.repeat {
			e.next = 0
		}
		return h, true
	}
	return Hit{}, false
}

func (e *entry) matches(r Request, query *url.Values) bool {
	if e.match.Workspace != r.Workspace {
		return false
	}
	if e.digest != ([sha256.Size]byte{}) {
		d := sha256.Sum256([]byte(r.Token))
		if subtle.ConstantTimeCompare(e.digest[:], d[:]) != 1 {
			return false
		}
	}
	if len(e.match.Query) > 0 && *query == nil {
		*query, _ = url.ParseQuery(r.RawQuery)
	}
	for k, want := range e.match.Query {
		if vs := (*query)[k]; len(vs) == 0 || vs[0] != want {
			return false
		}
	}
	return true
}

// List returns every script with the steps it has left, in the order they
// were added.
func (set *Set) List() []State {
	set.mu.Lock()
	defer set.mu.Unlock()
	out := make([]State, 0, len(set.scripts))
	for _, e := range set.scripts {
		st := State{ID: e.id, Workspace: e.match.Workspace, Query: e.match.Query, StepsLeft: slices.Clone(e.steps[e.next:]), Repeat: e.repeat, Consumed: e.consumed}
		if e.digest != ([sha256.Size]byte{}) {
			st.Token = "token#" + hex.EncodeToString(e.digest[:4])
		}
		out = append(out, st)
	}
	return out
}

// Left returns how many steps the script id has left before it is
// exhausted (a repeating script never is: the steps of its current round),
// and whether it exists.
func (set *Set) Left(id string) (int, bool) {
	set.mu.Lock()
	defer set.mu.Unlock()
	for _, e := range set.scripts {
		if e.id == id {
			return len(e.steps) - e.next, true
		}
	}
	return 0, false
}

// Delete removes the script id, reporting whether it existed.
func (set *Set) Delete(id string) bool {
	set.mu.Lock()
	defer set.mu.Unlock()
	for i, e := range set.scripts {
		if e.id == id {
			set.scripts = slices.Delete(set.scripts, i, i+1)
			set.n.Store(int64(len(set.scripts)))
			return true
		}
	}
	return false
}

// DeleteWorkspace removes the scripts of one workspace (when it is
// deleted).
func (set *Set) DeleteWorkspace(ws string) {
	set.mu.Lock()
	defer set.mu.Unlock()
	set.scripts = slices.DeleteFunc(set.scripts, func(e *entry) bool { return e.match.Workspace == ws })
	set.n.Store(int64(len(set.scripts)))
}

// Clear removes every script.
func (set *Set) Clear() {
	set.mu.Lock()
	defer set.mu.Unlock()
	set.scripts = nil
	set.n.Store(0)
}
