package main

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/torqapi/integrations/internal/stub"
)

// fastTextHandler writes slog's text format, byte for byte as
// slog.TextHandler does, for the records a busy stub writes on every
// request (plain strings, integers and durations), without the general
// handler's reflection-free but still costly machinery. Any record it cannot
// write exactly (a value that needs quoting, another kind, groups or
// attributes added with With) goes to the standard handler, so the output
// is always what slog.TextHandler writes.
type fastTextHandler struct {
	std   slog.Handler
	w     io.Writer // must be safe for concurrent writes of whole lines
	level slog.Leveler
	clock atomic.Pointer[formattedSecond]
}

// formattedSecond is one second's time text split around its milliseconds:
// "2026-11-28T08:00:17." and "Z". Every record of that second reuses it.
type formattedSecond struct {
	unix           int64
	loc            *time.Location
	prefix, suffix []byte
}

func newFastTextHandler(w io.Writer, level slog.Leveler) *fastTextHandler {
	return &fastTextHandler{std: slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}), w: w, level: level}
}

// Enabled reports whether level is at or above the handler's.
func (h *fastTextHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.level.Level()
}

// WithAttrs returns the standard handler with attrs: the fast path only
// serves records without them.
func (h *fastTextHandler) WithAttrs(attrs []slog.Attr) slog.Handler { return h.std.WithAttrs(attrs) }

// WithGroup returns the standard handler with the group.
func (h *fastTextHandler) WithGroup(name string) slog.Handler { return h.std.WithGroup(name) }

var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// Handle writes r as one line.
func (h *fastTextHandler) Handle(ctx context.Context, r slog.Record) error {
	bp := lineBufs.Get().(*[]byte)
	defer lineBufs.Put(bp)
	b, ok := h.appendTextRecord((*bp)[:0], r)
	if !ok {
		return h.std.Handle(ctx, r)
	}
	*bp = b
	_, err := h.w.Write(b)
	return err
}

var _ stub.RequestLogHandler = (*fastTextHandler)(nil)

// HandleRequest writes the stub's per-request line, exactly as Handle
// writes stub.RequestRecord, without building the record.
func (h *fastTextHandler) HandleRequest(ctx context.Context, t time.Time, method, path string, status int, d time.Duration, requestID string) error {
	if !plain(method) || !plain(path) || !plain(requestID) || t.IsZero() {
		return h.Handle(ctx, stub.RequestRecord(t, method, path, status, d, requestID))
	}
	bp := lineBufs.Get().(*[]byte)
	defer lineBufs.Put(bp)
	b := append((*bp)[:0], "time="...)
	b = h.appendTime(b, t)
	b = append(b, " level=INFO msg=request method="...)
	b = append(b, method...)
	b = append(b, " path="...)
	b = append(b, path...)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, " duration="...)
	b = append(b, d.String()...)
	b = append(b, " request_id="...)
	b = append(b, requestID...)
	b = append(b, '\n')
	*bp = b
	_, err := h.w.Write(b)
	return err
}

// appendTextRecord appends r as slog.TextHandler would, or reports that it
// cannot.
func (h *fastTextHandler) appendTextRecord(b []byte, r slog.Record) ([]byte, bool) {
	if !r.Time.IsZero() {
		b = append(b, "time="...)
		b = h.appendTime(b, r.Time)
		b = append(b, ' ')
	}
	var level string
	switch r.Level {
	case slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError:
		level = r.Level.String()
	default:
		return b, false
	}
	if !plain(r.Message) {
		return b, false
	}
	b = append(b, "level="...)
	b = append(b, level...)
	b = append(b, " msg="...)
	b = append(b, r.Message...)
	ok := true
	r.Attrs(func(a slog.Attr) bool {
		if !plain(a.Key) {
			ok = false
			return false
		}
		b = append(b, ' ')
		b = append(b, a.Key...)
		b = append(b, '=')
		switch v := a.Value; v.Kind() {
		case slog.KindString:
			if !plain(v.String()) {
				ok = false
				return false
			}
			b = append(b, v.String()...)
		case slog.KindInt64:
			b = strconv.AppendInt(b, v.Int64(), 10)
		case slog.KindDuration:
			b = append(b, v.Duration().String()...)
		default:
			ok = false
			return false
		}
		return true
	})
	return append(b, '\n'), ok
}

// appendTime appends t as appendRFC3339Millis does, formatting each second
// once.
func (h *fastTextHandler) appendTime(b []byte, t time.Time) []byte {
	c := h.clock.Load()
	if c == nil || c.unix != t.Unix() || c.loc != t.Location() {
		full := appendRFC3339Millis(nil, t.Truncate(time.Second))
		const dot = len("2006-01-02T15:04:05.")
		if len(full) < dot+3 || full[dot-1] != '.' {
			return appendRFC3339Millis(b, t) // a year outside 0000-9999
		}
		c = &formattedSecond{unix: t.Unix(), loc: t.Location(), prefix: full[:dot], suffix: full[dot+3:]}
		h.clock.Store(c)
	}
	ms := t.Nanosecond() / int(time.Millisecond)
	b = append(b, c.prefix...)
	b = append(b, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	return append(b, c.suffix...)
}

// appendRFC3339Millis is slog's text time format: RFC 3339 with exactly
// three fractional digits.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...)
}

// plain reports whether s is written unquoted by slog.TextHandler, judged
// conservatively: non-empty printable ASCII without space, '=' or '"'.
func plain(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !plainByte[s[i]] {
			return false
		}
	}
	return true
}

// plainByte is the byte set of plain; a constant table built once.
var plainByte = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = c != '=' && c != '"'
	}
	return t
}()
