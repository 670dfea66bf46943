package script

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func req(ws, token string, q map[string]string) Request {
	return Request{Workspace: ws, Token: token, Query: func(k string) (string, bool) {
		v, ok := q[k]
		return v, ok
	}}
}

func statuses(set *Set, r Request, n int) []int {
	var out []int
	for range n {
		h, ok := set.Next(r)
		switch {
		case !ok:
			out = append(out, 0)
		case h.Step.Pass:
			out = append(out, 200)
		default:
			out = append(out, h.Step.Status)
		}
	}
	return out
}

func TestNextConsumesInOrder(t *testing.T) {
	var set Set
	id, err := set.Add(Script{Match: Match{Workspace: "ws1"}, Steps: []Step{{Status: 503}, {Status: 503}, {Pass: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(&set, req("ws1", "t", nil), 5); !slices.Equal(got, []int{503, 503, 200, 0, 0}) {
		t.Errorf("got %v, want 503 503 200 then no match", got)
	}
	if left, ok := set.Left(id); !ok || left != 0 {
		t.Errorf("Left = %d %v", left, ok)
	}
}

func TestRepeat(t *testing.T) {
	var set Set
	_, _ = set.Add(Script{Match: Match{Workspace: "ws1"}, Steps: []Step{{Status: 429}, {Pass: true}}, Repeat: true})
	if got := statuses(&set, req("ws1", "t", nil), 5); !slices.Equal(got, []int{429, 200, 429, 200, 429}) {
		t.Errorf("got %v", got)
	}
}

func TestIsolation(t *testing.T) {
	var set Set
	_, _ = set.Add(Script{Match: Match{Workspace: "ws1"}, Steps: []Step{{Status: 500}}})
	_, _ = set.Add(Script{Match: Match{Workspace: "ws2", Token: "tok-a"}, Steps: []Step{{Status: 404}}})
	_, _ = set.Add(Script{Match: Match{Workspace: "ws2", Query: map[string]string{"type_id": "slack"}}, Steps: []Step{{Status: 409}}})
	if got := statuses(&set, req("ws2", "tok-b", nil), 1); got[0] != 0 {
		t.Errorf("another token, no query consumed %v", got)
	}
	if got := statuses(&set, req("ws2", "tok-b", map[string]string{"type_id": "slack"}), 2); !slices.Equal(got, []int{409, 0}) {
		t.Errorf("query match: %v", got)
	}
	if got := statuses(&set, req("ws2", "tok-a", nil), 2); !slices.Equal(got, []int{404, 0}) {
		t.Errorf("token match: %v", got)
	}
	if got := statuses(&set, req("ws1", "x", nil), 2); !slices.Equal(got, []int{500, 0}) {
		t.Errorf("ws1: %v", got)
	}
}

func TestConcurrentConsumption(t *testing.T) {
	var set Set
	steps := make([]Step, 100)
	for i := range steps {
		steps[i] = Step{Status: 503}
	}
	_, _ = set.Add(Script{Match: Match{Workspace: "ws"}, Steps: steps})
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int]bool{}
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if h, ok := set.Next(req("ws", "", nil)); ok {
					mu.Lock()
					if seen[h.Index] {
						t.Errorf("step %d consumed twice", h.Index)
					}
					seen[h.Index] = true
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(seen) != 100 {
		t.Errorf("%d steps consumed, want 100", len(seen))
	}
}

func TestListHidesTheToken(t *testing.T) {
	var set Set
	id, _ := set.Add(Script{Match: Match{Workspace: "ws", Token: "s3cret-token"}, Steps: []Step{{Status: 503}, {Pass: true}}})
	set.Next(req("ws", "s3cret-token", nil))
	l := set.List()
	if len(l) != 1 || l[0].ID != id || len(l[0].StepsLeft) != 1 || !l[0].StepsLeft[0].Pass || l[0].Consumed != 1 {
		t.Fatalf("List = %+v", l)
	}
	if strings.Contains(l[0].Token, "s3cret") || !strings.HasPrefix(l[0].Token, "token#") {
		t.Errorf("token shown as %q", l[0].Token)
	}
	if !set.Delete(id) || set.Delete(id) || len(set.List()) != 0 {
		t.Error("Delete")
	}
}

func TestDeleteWorkspaceAndClear(t *testing.T) {
	var set Set
	_, _ = set.Add(Script{Match: Match{Workspace: "a"}, Steps: []Step{{Pass: true}}})
	_, _ = set.Add(Script{Match: Match{Workspace: "b"}, Steps: []Step{{Pass: true}}})
	set.DeleteWorkspace("a")
	if l := set.List(); len(l) != 1 || l[0].Workspace != "b" {
		t.Errorf("after DeleteWorkspace: %+v", l)
	}
	set.Clear()
	if len(set.List()) != 0 {
		t.Error("Clear left scripts")
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		s     Script
		field string // "" => valid
	}{
		{"valid", Script{Match: Match{Workspace: "w"}, Steps: []Step{{Status: 503}, {Status: 429, RetryAfter: 2 * time.Second}, {Fault: FaultReset}, {Pass: true}, {Delay: time.Second}, {Status: 502, Body: "html"}, {Status: 302}}}, ""},
		{"no workspace", Script{Steps: []Step{{Pass: true}}}, "workspace"},
		{"no steps", Script{Match: Match{Workspace: "w"}}, "steps"},
		{"unknown status", Script{Match: Match{Workspace: "w"}, Steps: []Step{{Pass: true}, {Status: 418}}}, "steps[1].status"},
		{"unknown fault", Script{Match: Match{Workspace: "w"}, Steps: []Step{{Fault: "explode"}}}, "steps[0].fault"},
		{"two kinds", Script{Match: Match{Workspace: "w"}, Steps: []Step{{Status: 503, Pass: true}}}, "steps[0]"},
		{"empty step", Script{Match: Match{Workspace: "w"}, Steps: []Step{{}}}, "steps[0]"},
		{"delay too long", Script{Match: Match{Workspace: "w"}, Steps: []Step{{Delay: time.Hour}}}, "steps[0].delay"},
		{"negative delay", Script{Match: Match{Workspace: "w"}, Steps: []Step{{Pass: true, Delay: -time.Second}}}, "steps[0].delay"},
		{"retry_after without 429", Script{Match: Match{Workspace: "w"}, Steps: []Step{{Status: 500, RetryAfter: time.Second}}}, "steps[0].retry_after"},
		{"html without 502", Script{Match: Match{Workspace: "w"}, Steps: []Step{{Status: 503, Body: "html"}}}, "steps[0].body"},
		{"body not html", Script{Match: Match{Workspace: "w"}, Steps: []Step{{Status: 502, Body: "xml"}}}, "steps[0].body"},
		{"message on a fault", Script{Match: Match{Workspace: "w"}, Steps: []Step{{Fault: FaultStall, Message: "x"}}}, "steps[0].message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var set Set
			id, err := set.Add(tt.s)
			if tt.field == "" {
				if err != nil || id == "" {
					t.Fatalf("Add = %q, %v", id, err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Violations[0].Field != tt.field {
				t.Fatalf("Add = %v, want a violation of %s", err, tt.field)
			}
			if len(set.List()) != 0 {
				t.Error("a bad script was stored")
			}
		})
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"500ms", "2s", "1.5s", "", "-1s", "1h2m", "abc", "9999999999999h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if !strings.Contains(err.Error(), "is not a duration") {
				t.Errorf("error %q", err)
			}
			return
		}
		if d2, err := time.ParseDuration(d.String()); err != nil || d2 != d {
			t.Errorf("%q => %v does not round trip", s, d)
		}
	})
}
