package workspace_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/contract"
	"github.com/torqapi/integrations/internal/fixtures"
	"github.com/torqapi/integrations/internal/validate"
	"github.com/torqapi/integrations/internal/workspace"
)

// listOp is the contract's list operation, for validating bodies.
func listOp(t testing.TB) *validate.Operation {
	t.Helper()
	doc, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	v, err := validate.New(doc)
	if err != nil {
		t.Fatal(err)
	}
	op, err := v.Operation(http.MethodGet, "/v1alpha/integrations")
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// encoded is what the generated strict response writes for items.
func encoded(t testing.TB, items []generated.Integration) []byte {
	t.Helper()
	if items == nil {
		items = []generated.Integration{}
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(generated.IntegrationList{Integrations: items}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// served writes resp and returns its body, checking the headers.
func served(t testing.TB, resp generated.ListIntegrationsResponseObject) []byte {
	t.Helper()
	w := httptest.NewRecorder()
	if err := resp.VisitListIntegrationsResponse(w); err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" ||
		w.Header().Get("Content-Length") != fmt.Sprint(w.Body.Len()) {
		t.Fatalf("status %d, headers %v for %d bytes", w.Code, w.Header(), w.Body.Len())
	}
	return w.Body.Bytes()
}

func check(t testing.TB, items []generated.Integration) []fixtures.Item {
	t.Helper()
	out, err := fixtures.CheckValues(items)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// randomItems makes n valid integrations of ws: several type_ids (and
// none), every direction; outgoing ones name random workspaces of all (not
// ws itself) and an unknown one, incoming ones only unknown workspaces.
func randomItems(rng *rand.Rand, ws string, all []string, n int) []generated.Integration {
	types := []string{"webhook", "slack", "jira", ""}
	base := time.Date(2022, 3, 9, 8, 40, 18, 0, time.UTC)
	out := make([]generated.Integration, n)
	for i := range out {
		var u uuid.UUID
		for j := range u {
			u[j] = byte(rng.UintN(256))
		}
		u[6], u[8] = u[6]&0x0f|0x40, u[8]&0x3f|0x80
		display := fmt.Sprintf("Item <%d> & %s", i, ws)
		it := generated.Integration{
			ID: u, DisplayName: display, Name: fixtures.NameFromDisplayName(display),
			TypeID:    types[rng.IntN(len(types))],
			CreatedAt: base.Add(time.Duration(rng.Int64N(int64(1000 * time.Hour)))),
			CreatedBy: "user@example.com",
		}
		if rng.IntN(2) == 0 {
			it.LastUsedAt = it.CreatedAt.Add(time.Duration(rng.Int64N(int64(time.Hour))))
		}
		if it.TypeID == "webhook" {
			it.Details.Trigger.WebhookURL = "https://hooks.torq.io/v1/webhooks/" + u.String()
		}
		switch rng.IntN(3) {
		case 0:
			it.SharingData.Direction = generated.SharingNotShared
		case 1:
			it.SharingData = generated.SharingData{Direction: generated.SharingIncoming, WorkspaceIDs: []string{"elsewhere"}}
		case 2:
			ids := []string{"elsewhere"}
			for _, w := range all {
				if w != ws && rng.IntN(2) == 0 {
					ids = append(ids, w)
				}
			}
			it.SharingData = generated.SharingData{Direction: generated.SharingOutgoing, WorkspaceIDs: ids}
		}
		out[i] = it
	}
	return out
}

// expected is the reference model of sharing: b's own items, then for
// each other workspace in order its outgoing items naming b, incoming from it.
func expected(b string, order []string, own map[string][]generated.Integration) []generated.Integration {
	out := slices.Clone(own[b])
	for _, a := range order {
		if a == b {
			continue
		}
		for _, it := range own[a] {
			if it.SharingData.Direction == generated.SharingOutgoing && slices.Contains(it.SharingData.WorkspaceIDs, b) {
				it.SharingData = generated.SharingData{Direction: generated.SharingIncoming, WorkspaceIDs: []string{a}}
				out = append(out, it)
			}
		}
	}
	return out
}

// TestBodiesDifferential: on random valid data in four workspaces sharing
// with each other, every body served (full list, each type_id, an unknown
// type_id) is byte-equal to the generated encoder's output for the
// reference model's list, and valid against the contract's 200 response.
// The larger workspaces' lists are over 64 KiB, written from ropes.
func TestBodiesDifferential(t *testing.T) {
	op := listOp(t)
	order := []string{"w0", "w1", "w2", "w3", "w4"}
	for seed := range uint64(5) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 1))
			own := make(map[string][]generated.Integration)
			var specs []workspace.Spec
			for k, id := range order {
				own[id] = randomItems(rng, id, order, []int{0, 1, 40, 300, 1200}[k])
				specs = append(specs, workspace.Spec{ID: id, Integrations: check(t, own[id])})
			}
			s, err := workspace.New(specs)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range order {
				want := expected(b, order, own)
				snap := s.Get(b).Snapshot()
				if snap.Len() != len(want) {
					t.Errorf("%s: Len %d, want %d", b, snap.Len(), len(want))
				}
				for _, typeID := range []string{"", "webhook", "slack", "jira", "nope"} {
					var list []generated.Integration
					for _, it := range want {
						if typeID == "" || it.TypeID == typeID {
							list = append(list, it)
						}
					}
					got := served(t, snap.List(typeID))
					if w := encoded(t, list); !bytes.Equal(got, w) {
						t.Fatalf("%s type_id %q: body differs from the encoder's\n got %.300s\nwant %.300s", b, typeID, got, w)
					}
					if err := op.ValidateResponse(nil, http.StatusOK, http.Header{"Content-Type": {"application/json"}}, got); err != nil {
						t.Fatalf("%s type_id %q: %v", b, typeID, err)
					}
				}
			}
		})
	}
}

func item(id string, typeID string, sh generated.SharingData) generated.Integration {
	return generated.Integration{ID: uuid.MustParse(id), Name: "n", TypeID: typeID, SharingData: sh}
}

const (
	idX = "11111111-1111-4111-8111-111111111111"
	idY = "22222222-2222-4222-8222-222222222222"
)

func out(ws ...string) generated.SharingData {
	return generated.SharingData{Direction: generated.SharingOutgoing, WorkspaceIDs: ws}
}

func in(ws string) generated.SharingData {
	return generated.SharingData{Direction: generated.SharingIncoming, WorkspaceIDs: []string{ws}}
}

func fieldsOf(err error) []string {
	var fe *fixtures.Error
	if !errors.As(err, &fe) {
		return nil
	}
	var out []string
	for _, p := range fe.Problems {
		out = append(out, p.Path())
	}
	return out
}

func TestSharingErrors(t *testing.T) {
	tests := []struct {
		name  string
		specs []workspace.Spec
		field string // the first problem's path
		msg   string // in the error
	}{
		{"contradicting copy", []workspace.Spec{
			{ID: "a", Integrations: check(t, []generated.Integration{item(idX, "t", out("b"))})},
			{ID: "b", Integrations: check(t, []generated.Integration{item(idX, "other", in("a"))})},
		}, "workspaces[1].integrations[0]", `workspace "a" shares an integration with this id`},
		{"not incoming", []workspace.Spec{
			{ID: "a", Integrations: check(t, []generated.Integration{item(idX, "t", out("b"))})},
			{ID: "b", Integrations: check(t, []generated.Integration{item(idX, "t", generated.SharingData{Direction: generated.SharingNotShared})})},
		}, "workspaces[1].integrations[0]", `"a"`},
		{"incoming not shared", []workspace.Spec{
			{ID: "a"},
			{ID: "b", Integrations: check(t, []generated.Integration{item(idX, "t", in("a"))})},
		}, "workspaces[1].integrations[0].sharing_data.workspace_ids", `incoming from workspace "a"`},
		{"two sources", []workspace.Spec{
			{ID: "a", Integrations: check(t, []generated.Integration{item(idX, "t", out("c"))})},
			{ID: "b", Integrations: check(t, []generated.Integration{item(idX, "t", out("c"))})},
			{ID: "c"},
		}, "workspaces[1].integrations[0].sharing_data.workspace_ids", `"a" already shares`},
		{"shared with itself", []workspace.Spec{
			{ID: "a", Integrations: check(t, []generated.Integration{item(idX, "t", out("a"))})},
		}, "workspaces[0].integrations[0].sharing_data.workspace_ids[0]", "not shared with itself"},
		{"same token", []workspace.Spec{
			{ID: "a", Tokens: []string{"tok-secret-1"}},
			{ID: "b", DeniedTokens: []string{"tok-secret-1"}},
		}, "workspaces[1].denied_tokens[0]", `workspace "a"'s tokens[0]`},
		{"same client", []workspace.Spec{
			{ID: "a", Clients: []workspace.Client{{ID: "c1", Secret: "s-secret-1"}}},
			{ID: "b", Clients: []workspace.Client{{ID: "c1", Secret: "s-secret-2"}}},
		}, "workspaces[1].clients[0].id", `workspace "a" has a client`},
		{"zero item", []workspace.Spec{{ID: "a", Integrations: make([]fixtures.Item, 1)}}, "workspaces[0].integrations[0]", "not a judged item"},
		{"bad token", []workspace.Spec{{ID: "a", Tokens: []string{"tok secret"}}}, "workspaces[0].tokens[0]", "not a valid bearer token"},
		{"bad id", []workspace.Spec{{ID: "a/b"}}, "workspaces[0].id", "must be"},
		{"duplicate id", []workspace.Spec{{ID: "a"}, {ID: "a"}}, "workspaces[1].id", "duplicate"},
		{"duplicate item", []workspace.Spec{{ID: "a", Integrations: append(check(t, []generated.Integration{item(idX, "t", out())}), check(t, []generated.Integration{item(idX, "t", out())})...)}},
			"workspaces[0].integrations[1].id", "duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := workspace.New(tt.specs)
			if err == nil {
				t.Fatal("New succeeded")
			}
			if f := fieldsOf(err); len(f) == 0 || f[0] != tt.field {
				t.Errorf("fields %q, want first %q (%v)", f, tt.field, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error quotes a credential: %v", err)
			}
		})
	}
}

func TestSharingCoherent(t *testing.T) {
	x := item(idX, "t", out("b", "nowhere"))
	held := x
	held.SharingData = in("a")
	s, err := workspace.New([]workspace.Spec{
		{ID: "a", Integrations: check(t, []generated.Integration{x, item(idY, "u", in("nowhere"))})},
		{ID: "b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := served(t, s.Get("b").Snapshot().List("")), encoded(t, []generated.Integration{held}); !bytes.Equal(got, want) {
		t.Fatalf("b serves %s, want %s", got, want)
	}
	// b may hold the derived item itself: it is served once, where b has it.
	other := item(idY, "t", out())
	if err := s.Replace("b", check(t, []generated.Integration{other, held})); err != nil {
		t.Fatal(err)
	}
	if got, want := served(t, s.Get("b").Snapshot().List("t")), encoded(t, []generated.Integration{other, held}); !bytes.Equal(got, want) {
		t.Fatalf("b serves %s, want %s", got, want)
	}
	// a stops sharing: b's copy now claims an incoming item a does not share.
	err = s.Replace("a", nil)
	if f := fieldsOf(err); len(f) != 1 || f[0] != "integrations" {
		t.Fatalf("Replace a: %v (fields %q)", err, f)
	}
	// Removing b's copy first, then a's item, works; b then serves nothing from a.
	if err := s.Replace("b", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Replace("a", nil); err != nil {
		t.Fatal(err)
	}
	// A workspace created later gets what was shared with it before.
	if err := s.Replace("a", check(t, []generated.Integration{item(idX, "t", out("c"))})); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(workspace.Spec{ID: "c"}); err != nil {
		t.Fatal(err)
	}
	if n := s.Get("c").Snapshot().Len(); n != 1 {
		t.Fatalf("c serves %d items, want 1", n)
	}
	if err := s.Delete("a"); err != nil {
		t.Fatal(err)
	}
	if n := s.Get("c").Snapshot().Len(); n != 0 {
		t.Fatalf("after deleting a, c serves %d items, want 0", n)
	}
	s.Reset()
	if got := s.List(); !slices.Equal(got, []workspace.Summary{{ID: "a", Integrations: 2}, {ID: "b", Integrations: 1}}) {
		t.Fatalf("after Reset: %+v", got)
	}
}

func TestStoreOperations(t *testing.T) {
	s, err := workspace.New([]workspace.Spec{{
		ID: "default", Tokens: []string{"tok-a"}, DeniedTokens: []string{"tok-d", "tok-a2"},
		Clients: []workspace.Client{{ID: "cid", Secret: "sec"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tokens := []struct {
		token          string
		id             string
		denied, wantOK bool
	}{
		{"tok-a", "default", false, true},
		{"tok-d", "default", true, true},
		{"nope", "", false, false},
	}
	for _, tt := range tokens {
		id, denied, ok := s.WorkspaceForToken(tt.token)
		if id != tt.id || denied != tt.denied || ok != tt.wantOK {
			t.Errorf("WorkspaceForToken(%q) = %q, %v, %v", tt.token, id, denied, ok)
		}
	}
	if id, ok := s.ClientWorkspace("cid", "sec"); id != "default" || !ok {
		t.Errorf("ClientWorkspace = %q, %v", id, ok)
	}
	if _, ok := s.ClientWorkspace("cid", "wrong"); ok {
		t.Error("a wrong secret passes")
	}
	if _, ok := s.ClientWorkspace("nope", ""); ok {
		t.Error("an unknown client passes")
	}

	c, err := s.Create(workspace.Spec{Integrations: check(t, []generated.Integration{item(idX, "t", out())})})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.ID, "ws-") || len(c.ID) != 11 || c.Token == "" || c.Client.ID == "" || c.Client.Secret == "" {
		t.Fatalf("Created %+v", c)
	}
	if id, denied, ok := s.WorkspaceForToken(c.Token); id != c.ID || denied || !ok {
		t.Errorf("the generated token: %q %v %v", id, denied, ok)
	}
	if id, ok := s.ClientWorkspace(c.Client.ID, c.Client.Secret); id != c.ID || !ok {
		t.Errorf("the generated client: %q %v", id, ok)
	}
	if id, ok := s.WorkspaceForClient(c.Client.ID); id != c.ID || !ok {
		t.Errorf("WorkspaceForClient: %q %v", id, ok)
	}
	if _, err := s.Create(workspace.Spec{ID: c.ID}); !errors.As(err, new(*workspace.ExistsError)) {
		t.Errorf("Create of an existing id: %v", err)
	}
	if _, err := s.Create(workspace.Spec{ID: "x", Tokens: []string{"tok-a"}}); err == nil || fieldsOf(err)[0] != "tokens[0]" {
		t.Errorf("Create with another workspace's token: %v", err)
	}
	if err := s.Replace("nope", nil); !errors.As(err, new(*workspace.NotFoundError)) {
		t.Errorf("Replace of an unknown id: %v", err)
	}
	if err := s.Delete("nope"); !errors.As(err, new(*workspace.NotFoundError)) {
		t.Errorf("Delete of an unknown id: %v", err)
	}
	before := s.Get("default")
	if err := s.Replace(c.ID, nil); err != nil {
		t.Fatal(err)
	}
	if s.Get("default") != before {
		t.Error("a change to one workspace rebuilt an unrelated one")
	}
	if err := s.Delete(c.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := s.WorkspaceForToken(c.Token); ok || s.Get(c.ID) != nil {
		t.Error("a deleted workspace's token still resolves")
	}
	s.Reset()
	if got := s.List(); len(got) != 1 || got[0].ID != "default" {
		t.Errorf("after Reset: %+v", got)
	}
}

// TestConcurrentReaders runs readers against changes (for -race).
func TestConcurrentReaders(t *testing.T) {
	s, err := workspace.New([]workspace.Spec{{ID: "a", Tokens: []string{"tok"}}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			if w := s.Get("a"); w != nil {
				_ = w.Snapshot().List("")
			}
			s.WorkspaceForToken("tok")
			s.List()
		}
	}()
	for i := range 50 {
		if _, err := s.Create(workspace.Spec{ID: fmt.Sprint("w", i)}); err != nil {
			t.Error(err)
		}
		if err := s.Replace("a", check(t, []generated.Integration{item(idX, "t", out(fmt.Sprint("w", i)))})); err != nil {
			t.Error(err)
		}
	}
	<-done
}

// TestRebuildsOnlyWhatChanges: replacing a's data in a way that keeps what
// it shares with b keeps b's snapshot; changing what it shares rebuilds it.
func TestRebuildsOnlyWhatChanges(t *testing.T) {
	x := item(idX, "t", out("b"))
	s, err := workspace.New([]workspace.Spec{{ID: "a", Integrations: check(t, []generated.Integration{x})}, {ID: "b"}, {ID: "c"}})
	if err != nil {
		t.Fatal(err)
	}
	b, c := s.Get("b").Snapshot(), s.Get("c")
	if err := s.Replace("a", check(t, []generated.Integration{x, item(idY, "u", out())})); err != nil {
		t.Fatal(err)
	}
	if s.Get("b").Snapshot() != b || s.Get("c") != c {
		t.Error("b or c rebuilt though what a shares with them did not change")
	}
	x.Name = "renamed"
	if err := s.Replace("a", check(t, []generated.Integration{x})); err != nil {
		t.Fatal(err)
	}
	if s.Get("b").Snapshot() == b || !bytes.Contains(served(t, s.Get("b").Snapshot().List("")), []byte(`"renamed"`)) {
		t.Error("b not rebuilt after a changed the item it shares")
	}
}
