// Package journal is the stub's bounded record of the exchanges it answered:
// what a test suite reads back through the control API
// (GET /__stub/requests) to assert what its code sent.
//
// A Journal is a ring of a fixed number of entries: once full, each new
// entry takes the place of the oldest. Its memory is flat under any load:
// the ring is allocated once, every entry's text is copied into buffers its
// slot keeps and reuses, and every text is bounded (long paths, queries and
// notes are cut short), so an entry never pins a request's memory and a
// flood of requests with huge URLs costs no more than a quiet run. Recording
// allocates nothing once the slots have warmed up.
//
// An Entry has no header field at all, so Authorization (or any other
// header) cannot be recorded; query parameters that carry credentials
// (access_token, client_secret, ...) are recorded with their value
// replaced by REDACTED.
package journal

import (
	"bytes"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// DefaultSize is the number of entries a Journal keeps when its size is not
// given: enough for the requests of a test, small enough (well under a few
// MiB at the bounds below) to forget about.
const DefaultSize = 1000

// MaxSize bounds the size of a Journal, so that a mistyped flag cannot
// reserve gigabytes.
const MaxSize = 1 << 20

// Bounds of the texts of an entry, in bytes. A longer text is cut at a
// UTF-8 boundary and ends with Ellipsis, within the bound.
const (
	MaxMethodLen    = 16
	MaxPathLen      = 1024
	MaxQueryLen     = 1024
	MaxWorkspaceLen = 64
	MaxRequestIDLen = 128
	MaxScriptLen    = 64
	// MaxNoteLen bounds one warning or violation.
	MaxNoteLen = 256
	// MaxNotes bounds the warnings, and separately the violations, of one
	// entry; the last one kept says how many more there were.
	MaxNotes = 16
)

// Ellipsis ends a text that was cut short.
const Ellipsis = "…"

// Redacted replaces the value of a query parameter that carries a
// credential.
const Redacted = "REDACTED"

// Entry is one exchange: the request as it arrived (no headers, no body)
// and how the stub answered it.
type Entry struct {
	// ID is the entry's sequence number, from 1, increasing in the order
	// entries were recorded; Record assigns it.
	ID uint64
	// Time is when the request arrived.
	Time time.Time
	// Method, Path and Query (raw, without '?') are the request's.
	Method, Path, Query string
	// Status is the HTTP status of the answer; 0 when the connection was
	// dropped before any answer.
	Status int
	// Workspace is the workspace the request's credentials belong to, ""
	// when none.
	Workspace string
	// RequestID is the X-Request-Id the stub answered with.
	RequestID string
	// Warnings are notes on the request that did not change the answer.
	Warnings []string
	// Violations are the ways the request or the answer broke Torq's
	// contract.
	Violations []string
	// Script is the id of the script that answered, "" when none did; Step
	// is the index (from 0) of its step that answered, meaningful only
	// when Script is set.
	Script string
	Step   int
}

// slot is one place of the ring. Its texts live in byte slices it keeps
// from one entry to the next, so recording copies without allocating and
// an entry never holds on to a caller's strings.
type slot struct {
	id        uint64
	time      time.Time
	status    int
	step      int
	method    []byte
	path      []byte
	query     []byte
	workspace []byte
	requestID []byte
	script    []byte
	warnings  notes
	violation notes
}

// notes is a bounded list of short texts with reusable storage.
type notes struct {
	n    int
	text [MaxNotes][]byte
}

// Journal is a bounded, concurrency-safe record of entries. The zero value
// is not usable; call New.
type Journal struct {
	mu    sync.Mutex
	slots []slot // grows to size, then is a ring
	size  int
	head  int    // index of the oldest entry
	n     int    // entries held
	seq   uint64 // ID of the last entry recorded
}

// New returns a Journal that keeps the newest size entries: DefaultSize
// when size <= 0, at most MaxSize.
func New(size int) *Journal {
	if size <= 0 {
		size = DefaultSize
	}
	size = min(size, MaxSize)
	// The ring grows to size as entries come, so a stub that records few
	// (one per test) costs little; once grown, its memory stays flat.
	return &Journal{size: size}
}

// Size returns the number of entries the journal keeps at most.
func (j *Journal) Size() int { return j.size }

// Record adds e, cut to the bounds above, as the newest entry (the oldest
// makes room when the journal is full) and returns the ID it assigned;
// e.ID is ignored. Record keeps none of e's strings or slices.
func (j *Journal) Record(e Entry) uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.n == len(j.slots) && len(j.slots) < j.size {
		// Not full yet (head is 0 until it is): one more slot.
		j.slots = append(j.slots, slot{})
	}
	i := j.head + j.n
	if i >= len(j.slots) {
		i -= len(j.slots)
	}
	if j.n == len(j.slots) {
		j.head++
		if j.head == len(j.slots) {
			j.head = 0
		}
	} else {
		j.n++
	}
	j.seq++
	s := &j.slots[i]
	s.id, s.time, s.status, s.step = j.seq, e.Time, e.Status, e.Step
	s.method = appendBounded(s.method[:0], e.Method, MaxMethodLen)
	s.path = appendBounded(s.path[:0], e.Path, MaxPathLen)
	s.query = appendQuery(s.query[:0], e.Query, MaxQueryLen)
	s.workspace = appendBounded(s.workspace[:0], e.Workspace, MaxWorkspaceLen)
	s.requestID = appendBounded(s.requestID[:0], e.RequestID, MaxRequestIDLen)
	s.script = appendBounded(s.script[:0], e.Script, MaxScriptLen)
	s.warnings.set(e.Warnings)
	s.violation.set(e.Violations)
	return j.seq
}

// List returns the entries of workspace ("" for every entry), oldest first.
// With limit > 0 it returns only the newest limit of them, still oldest
// first.
func (j *Journal) List(workspace string, limit int) []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	// Walk from the newest back, so that a limit stops the walk early.
	var picked []int
	for k := j.n - 1; k >= 0; k-- {
		if limit > 0 && len(picked) == limit {
			break
		}
		i := j.index(k)
		if workspace != "" && string(j.slots[i].workspace) != workspace {
			continue
		}
		picked = append(picked, i)
	}
	out := make([]Entry, len(picked))
	for k, i := range picked {
		out[len(picked)-1-k] = j.slots[i].entry()
	}
	return out
}

// Clear removes the entries of workspace, or every entry when workspace is
// "". IDs keep increasing after a Clear.
func (j *Journal) Clear(workspace string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if workspace == "" {
		j.head, j.n = 0, 0
		return
	}
	kept := 0
	for k := 0; k < j.n; k++ {
		i := j.index(k)
		if string(j.slots[i].workspace) == workspace {
			continue
		}
		if kept != k {
			// Swap rather than copy, so that each slot keeps buffers of
			// its own and none are shared.
			d := j.index(kept)
			j.slots[d], j.slots[i] = j.slots[i], j.slots[d]
		}
		kept++
	}
	j.n = kept
}

// index returns the slot of the k-th oldest entry.
func (j *Journal) index(k int) int {
	i := j.head + k
	if i >= len(j.slots) {
		i -= len(j.slots)
	}
	return i
}

func (s *slot) entry() Entry {
	return Entry{
		ID:         s.id,
		Time:       s.time,
		Method:     string(s.method),
		Path:       string(s.path),
		Query:      string(s.query),
		Status:     s.status,
		Workspace:  string(s.workspace),
		RequestID:  string(s.requestID),
		Warnings:   s.warnings.strings(),
		Violations: s.violation.strings(),
		Script:     string(s.script),
		Step:       s.step,
	}
}

func (ns *notes) set(list []string) {
	ns.n = min(len(list), MaxNotes)
	for k := 0; k < ns.n; k++ {
		text := list[k]
		if k == MaxNotes-1 && len(list) > MaxNotes {
			ns.text[k] = appendMore(ns.text[k][:0], len(list)-MaxNotes+1)
			continue
		}
		ns.text[k] = appendBounded(ns.text[k][:0], text, MaxNoteLen)
	}
}

// appendMore writes "… and N more" without fmt, which would allocate.
func appendMore(b []byte, n int) []byte {
	b = append(b, Ellipsis+" and "...)
	var digits [20]byte
	i := len(digits)
	for {
		i--
		digits[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	b = append(b, digits[i:]...)
	return append(b, " more"...)
}

// strings returns the notes as a new slice, never nil: an entry with no
// warnings has an empty list, as the control API answers it.
func (ns *notes) strings() []string {
	out := make([]string, ns.n)
	for k := range out {
		out[k] = string(ns.text[k])
	}
	return out
}

// appendBounded appends s to b, cut at a UTF-8 boundary so that the result
// (Ellipsis included) fits in max bytes.
func appendBounded(b []byte, s string, max int) []byte {
	if len(s) <= max {
		return append(b, s...)
	}
	cut := max - len(Ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	b = append(b, s[:cut]...)
	return append(b, Ellipsis...)
}

// appendQuery appends the raw query q to b, bounded like appendBounded,
// with the values of credential parameters replaced by Redacted. The
// common query holds none: it is copied and scanned once, in place.
func appendQuery(b []byte, q string, max int) []byte {
	start := len(b)
	b = appendBounded(b, q, max)
	if !hasSecret(b[start:]) {
		return b
	}
	return appendBounded(b[:start], redact(q), max)
}

// hasSecret reports whether a raw query names a credential parameter with
// a value. It looks at each byte once, noting escapes on the way, so that
// a name is judged without a second scan.
func hasSecret(q []byte) bool {
	name, escaped := 0, false // start of the current name (-1 inside a value); whether it has an escape
	for i, c := range q {
		switch c {
		case '&':
			name, escaped = i+1, false
		case '%', '+':
			escaped = true
		case '=':
			if name >= 0 && (escaped || secretLengths&(1<<min(i-name, 63)) != 0) && isSecretParam(q[name:i]) {
				return true
			}
			name = -1
		}
	}
	return false
}

// redact returns q with the value of every credential parameter replaced.
// It runs only for a query that holds one, so it may allocate.
func redact(q string) string {
	var sb strings.Builder
	for first := true; q != ""; first = false {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		if !first {
			sb.WriteByte('&')
		}
		if name, _, ok := strings.Cut(pair, "="); ok && isSecretParam([]byte(name)) {
			sb.WriteString(name)
			sb.WriteString("=" + Redacted)
			continue
		}
		sb.WriteString(pair)
	}
	return sb.String()
}

// secretParams are query parameters whose values are credentials (OAuth2's
// and common API-key names). A client that sends its token endpoint request
// with the secret in the URL must not find it in the journal.
var secretParams = [...]string{
	"access_token", "refresh_token", "id_token", "token", "client_secret",
	"password", "api_key", "apikey", "key", "secret", "assertion", "code",
}

// secretLengths has bit n set when a name of secretParams has n bytes: an
// unescaped name of any other length is no secret, without comparing.
const secretLengths = 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<9 | 1<<12 | 1<<13

// isSecretParam reports whether a raw parameter name, once unescaped as the
// stub's query parser would, is one of secretParams, ignoring case.
func isSecretParam(raw []byte) bool {
	if bytes.ContainsAny(raw, "%+") {
		unescaped, err := url.QueryUnescape(string(raw))
		if err != nil {
			// The parser rejects it too; redact rather than guess.
			return true
		}
		raw = []byte(unescaped)
	}
	for _, p := range secretParams {
		if len(raw) == len(p) && equalFoldASCII(raw, p) {
			return true
		}
	}
	return false
}

// equalFoldASCII is strings.EqualFold for an ASCII p, on bytes, without
// converting them to a string.
func equalFoldASCII(b []byte, p string) bool {
	for i := range len(p) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != p[i] {
			return false
		}
	}
	return true
}
