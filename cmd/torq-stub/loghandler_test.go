package main

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/torqapi/integrations/internal/stub"
)

// TestFastTextHandler checks that every record comes out exactly as
// slog.TextHandler writes it, through the fast path or not.
func TestFastTextHandler(t *testing.T) {
	at := time.Date(2026, 11, 28, 8, 0, 17, 105_900_000, time.UTC)
	records := []struct {
		name  string
		level slog.Level
		msg   string
		attrs []slog.Attr
	}{
		{"request", slog.LevelInfo, "request", []slog.Attr{
			slog.String("method", "GET"), slog.String("path", "/public/v1alpha/integrations"), slog.Int("status", 200),
			slog.Duration("duration", 703275*time.Nanosecond), slog.String("request_id", "29ca89dc-1")}},
		{"quoted value", slog.LevelInfo, "request", []slog.Attr{slog.String("path", "/a b"), slog.String("x", `q"`), slog.String("e", "")}},
		{"non-ASCII", slog.LevelWarn, "request", []slog.Attr{slog.String("path", "/caf\u00e9")}},
		{"message with spaces", slog.LevelError, "reload failed; the old data stays", []slog.Attr{slog.String("error", "x: y")}},
		{"other kinds", slog.LevelInfo, "m", []slog.Attr{slog.Bool("b", true), slog.Float64("f", 1.5), slog.Any("a", []int{1})}},
		{"custom level", slog.LevelInfo + 2, "m", nil},
		{"negative int", slog.LevelDebug, "m", []slog.Attr{slog.Int("n", -3)}},
	}
	for _, rc := range records {
		t.Run(rc.name, func(t *testing.T) {
			var want, got bytes.Buffer
			std := slog.NewTextHandler(&want, &slog.HandlerOptions{Level: slog.LevelDebug})
			fast := newFastTextHandler(&got, slog.LevelDebug)
			for _, h := range []slog.Handler{std, fast} {
				r := slog.NewRecord(at, rc.level, rc.msg, 0)
				r.AddAttrs(rc.attrs...)
				if err := h.Handle(context.Background(), r); err != nil {
					t.Fatal(err)
				}
			}
			if got.String() != want.String() {
				t.Errorf("got  %q\nwant %q", got.String(), want.String())
			}
		})
	}
	// Times: the same second twice, the next second, other zones, odd years.
	var want, got bytes.Buffer
	std := slog.NewTextHandler(&want, nil)
	fast := newFastTextHandler(&got, slog.LevelInfo)
	for _, tm := range []time.Time{
		at, at.Add(7 * time.Millisecond), at.Add(time.Second), at.Add(999_999_999 * time.Nanosecond),
		at.In(time.FixedZone("X", 2*3600+30*60)), at.In(time.FixedZone("Y", -5*3600)), at,
		time.Date(12345, 1, 2, 3, 4, 5, 6_000_000, time.UTC), time.Date(-5, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(1960, 1, 2, 3, 4, 5, 987_000_000, time.UTC),
	} {
		for _, h := range []slog.Handler{std, fast} {
			_ = h.Handle(context.Background(), slog.NewRecord(tm, slog.LevelInfo, "m", 0))
		}
	}
	if got.String() != want.String() {
		t.Errorf("times:\ngot\n%s\nwant\n%s", got.String(), want.String())
	}

	// The stub's request line, through HandleRequest.
	want.Reset()
	got.Reset()
	for _, c := range []struct {
		method, path, id string
		status           int
		d                time.Duration
	}{
		{"GET", "/public/v1alpha/integrations", "29ca89dc-1", 200, 703275 * time.Nanosecond},
		{"POST", "/v1/auth/token", "x", 401, 2 * time.Second},
		{"GET", "/a b", "id", 404, 0},
		{"M\"", "/", "", 405, time.Microsecond},
		{"GET", "/caf\u00e9", "r=1", 0, -time.Millisecond},
	} {
		_ = std.Handle(context.Background(), stub.RequestRecord(at, c.method, c.path, c.status, c.d, c.id))
		_ = fast.HandleRequest(context.Background(), at, c.method, c.path, c.status, c.d, c.id)
	}
	if got.String() != want.String() {
		t.Errorf("request lines:\ngot\n%s\nwant\n%s", got.String(), want.String())
	}

	var buf bytes.Buffer
	h := newFastTextHandler(&buf, slog.LevelWarn)
	if h.Enabled(context.Background(), slog.LevelInfo) || !h.Enabled(context.Background(), slog.LevelError) {
		t.Error("Enabled ignores the level")
	}
	slog.New(h).With("k", "v").WithGroup("g").Warn("w", "a", 1)
	if buf.String() == "" {
		t.Error("With/WithGroup records were dropped")
	}
}

func BenchmarkFastTextHandler(b *testing.B) {
	for _, tc := range []struct {
		name string
		h    slog.Handler
	}{
		{"std", slog.NewTextHandler(discard{}, nil)},
		{"fast", newFastTextHandler(discard{}, slog.LevelInfo)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
				r.AddAttrs(slog.String("method", "GET"), slog.String("path", "/public/v1alpha/integrations"), slog.Int("status", 200),
					slog.Duration("duration", 703275*time.Nanosecond), slog.String("request_id", "29ca89dc-1"))
				_ = tc.h.Handle(context.Background(), r)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
