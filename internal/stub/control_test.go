package stub

import (
	"encoding/json"
	"github.com/torqapi/integrations/internal/bench/benchdata"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// ctl sends a control API request from a loopback client.
func ctl(t *testing.T, s http.Handler, method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.RemoteAddr = "127.0.0.1:40000"
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", w.Body, err)
	}
	return v
}

func listWith(t *testing.T, s http.Handler, token, query string) *httptest.ResponseRecorder {
	t.Helper()
	return request{target: "/public/v1alpha/integrations" + query, header: http.Header{"Authorization": {"Bearer " + token}}}.do(t, s)
}

const (
	itemA = `{"id":"0b7c2c55-5d2e-4a56-9f1e-3c8a7b6d5e4f","name":"a","display_name":"A","type_id":"slack"}`
	itemB = `{"id":"7e9a1d3c-2b4f-4c6e-8a0d-9f1b2c3d4e5f","name":"b","display_name":"B","type_id":"webhook"}`
)

// TestControlWorkspaces walks the control API as a test in another
// language would: two isolated workspaces, a bad item refused with nothing
// changed, the journal with a warning, delete (401 after), reset.
func TestControlWorkspaces(t *testing.T) {
	s := newStub(t, Config{})
	type creds struct{ ID, Token, ClientID, ClientSecret string }
	create := func(body string) creds {
		w := ctl(t, s, "POST", "/__stub/workspaces", body)
		if w.Code != 201 {
			t.Fatalf("create: %d %s", w.Code, w.Body)
		}
		c := decode[struct {
			ID           string `json:"id"`
			Token        string `json:"token"`
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
		}](t, w)
		return creds{c.ID, c.Token, c.ClientID, c.ClientSecret}
	}
	ws1 := create(`{"id":"ws1","integrations":[` + itemA + `]}`)
	ws2 := create(`{}`)
	if ws1.ID != "ws1" || ws2.ID == "" || ws1.Token == ws2.Token || ws1.Token == "" {
		t.Fatalf("credentials %+v %+v", ws1, ws2)
	}
	if w := ctl(t, s, "PUT", "/__stub/workspaces/"+ws2.ID+"/integrations", `{"integrations":[`+itemB+`]}`); w.Code != 200 || !strings.Contains(w.Body.String(), `"integrations":1`) {
		t.Fatalf("replace: %d %s", w.Code, w.Body)
	}
	// Isolated: each token lists its own workspace's data.
	if w := listWith(t, s, ws1.Token, ""); !strings.Contains(w.Body.String(), `"name":"a"`) || strings.Contains(w.Body.String(), `"name":"b"`) {
		t.Errorf("ws1 lists %s", w.Body)
	}
	if w := listWith(t, s, ws2.Token, ""); !strings.Contains(w.Body.String(), `"name":"b"`) || strings.Contains(w.Body.String(), `"name":"a"`) {
		t.Errorf("ws2 lists %s", w.Body)
	}
	// A bad item: 400 naming it, and nothing changed.
	w := ctl(t, s, "PUT", "/__stub/workspaces/ws1/integrations", `{"integrations":[`+itemB+`,{"id":"nope","name":"x"}]}`)
	if w.Code != 400 || !slices.Contains(fieldViolations(status(t, w)), "integrations[1].id") {
		t.Errorf("bad item: %d %s", w.Code, w.Body)
	}
	if w := listWith(t, s, ws1.Token, ""); !strings.Contains(w.Body.String(), `"name":"a"`) || strings.Contains(w.Body.String(), `"name":"b"`) {
		t.Errorf("after a refused replace, ws1 lists %s", w.Body)
	}
	// The journal, with a warning for a misspelled parameter.
	listWith(t, s, ws1.Token, "?tpye_id=slack")
	w = ctl(t, s, "GET", "/__stub/requests?workspace=ws1", "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), "did you mean type_id?") || strings.Contains(w.Body.String(), ws2.ID+`"`) {
		t.Errorf("journal: %d %s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), ws1.Token) {
		t.Error("the journal holds a token")
	}
	// The workspace list.
	if w := ctl(t, s, "GET", "/__stub/workspaces", ""); !strings.Contains(w.Body.String(), `{"id":"ws1","integrations":1}`) {
		t.Errorf("list: %s", w.Body)
	}
	// Delete: its credentials stop working.
	if w := ctl(t, s, "DELETE", "/__stub/workspaces/ws1", ""); w.Code != 204 {
		t.Fatalf("delete: %d %s", w.Code, w.Body)
	}
	if w := listWith(t, s, ws1.Token, ""); w.Code != 401 {
		t.Errorf("deleted workspace's token: %d", w.Code)
	}
	if w := ctl(t, s, "DELETE", "/__stub/workspaces/ws1", ""); w.Code != 404 || status(t, w).Code != 5 {
		t.Errorf("delete again: %d %s", w.Code, w.Body)
	}
	// Reset: back to the start.
	if w := ctl(t, s, "POST", "/__stub/reset", ""); w.Code != 204 {
		t.Fatalf("reset: %d", w.Code)
	}
	if w := ctl(t, s, "GET", "/__stub/requests", ""); !strings.Contains(w.Body.String(), `"requests":[]`) {
		t.Errorf("after reset, the journal: %s", w.Body)
	}
	if w := listWith(t, s, ws2.Token, ""); w.Code != 401 {
		t.Errorf("after reset, a created workspace's token: %d", w.Code)
	}
	if w := get(t, s, "/public/v1alpha/integrations"); w.Code != 200 {
		t.Errorf("after reset, the demo token: %d", w.Code)
	}
}

// TestControlIssuedTokens: a created workspace's client gets tokens that
// act for it.
func TestControlIssuedTokens(t *testing.T) {
	s := newStub(t, Config{})
	w := ctl(t, s, "POST", "/__stub/workspaces", `{"id":"ws1","integrations":[`+itemA+`]}`)
	c := decode[struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}](t, w)
	r := httptest.NewRequest("POST", "/v1/auth/token", strings.NewReader("grant_type=client_credentials"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(c.ClientID, c.ClientSecret)
	tw := httptest.NewRecorder()
	s.ServeHTTP(tw, r)
	tok := decode[struct {
		AccessToken string `json:"access_token"`
	}](t, tw).AccessToken
	if tw.Code != 200 || tok == "" {
		t.Fatalf("token: %d %s", tw.Code, tw.Body)
	}
	if w := listWith(t, s, tok, ""); w.Code != 200 || !strings.Contains(w.Body.String(), `"name":"a"`) {
		t.Errorf("issued token lists %d %s", w.Code, w.Body)
	}
	ctl(t, s, "DELETE", "/__stub/workspaces/ws1", "")
	if w := listWith(t, s, tok, ""); w.Code != 401 {
		t.Errorf("issued token after delete: %d", w.Code)
	}
}

// TestControlScripts: a script created through the control API answers
// its workspace's requests only, is listed with the steps left, and a bad
// one is refused naming the field with nothing stored.
func TestControlScripts(t *testing.T) {
	s := newStub(t, Config{})
	ws1 := decode[struct {
		Token string `json:"token"`
	}](t, ctl(t, s, "POST", "/__stub/workspaces", `{"id":"ws1"}`)).Token
	ws2 := decode[struct {
		Token string `json:"token"`
	}](t, ctl(t, s, "POST", "/__stub/workspaces", `{"id":"ws2"}`)).Token
	if w := ctl(t, s, "POST", "/__stub/scripts", `{"workspace":"ws1","steps":[{"status":503},{"status":503},{"pass":true}]}`); w.Code != 201 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	if w := ctl(t, s, "POST", "/__stub/scripts", `{"workspace":"ws2","steps":[{"status":429,"retry_after":"2s"}]}`); w.Code != 201 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	var got []int
	for range 4 {
		got = append(got, listWith(t, s, ws1, "").Code)
	}
	if !slices.Equal(got, []int{503, 503, 200, 200}) {
		t.Errorf("ws1: %v, want 503 503 200 200", got)
	}
	w := listWith(t, s, ws2, "")
	if w.Code != 429 || w.Header().Get("Retry-After") != "2" {
		t.Errorf("ws2: %d %v", w.Code, w.Header())
	}
	if w := ctl(t, s, "GET", "/__stub/scripts", ""); !strings.Contains(w.Body.String(), `"steps_left":[]`) {
		t.Errorf("list: %s", w.Body)
	}
	for body, field := range map[string]string{
		`{"workspace":"ws1","steps":[{"status":418}]}`:             "steps[0].status",
		`{"workspace":"ws1","steps":[{"delay":"soon"}]}`:           "steps[0].delay",
		`{"workspace":"nope","steps":[{"pass":true}]}`:             "",
		`{"workspace":"ws1","steps":[{"fault":"explode"}]}`:        "steps[0].fault",
		`{"workspace":"ws1","steps":[{"status":503,"pass":true}]}`: "steps[0]",
	} {
		w := ctl(t, s, "POST", "/__stub/scripts", body)
		if field == "" {
			if w.Code != 404 {
				t.Errorf("%s: %d %s, want 404", body, w.Code, w.Body)
			}
			continue
		}
		if w.Code != 400 || !slices.Contains(fieldViolations(status(t, w)), field) {
			t.Errorf("%s: %d %s, want 400 naming %s", body, w.Code, w.Body, field)
		}
	}
	if n := len(s.Scripts().List()); n != 2 {
		t.Errorf("%d scripts stored, want the 2 good ones", n)
	}
	if w := ctl(t, s, "DELETE", "/__stub/scripts", ""); w.Code != 204 || len(s.Scripts().List()) != 0 {
		t.Errorf("delete all: %d", w.Code)
	}
}

// TestControlAccess: loopback clients only by default; a control token
// when set; open when asked.
func TestControlAccess(t *testing.T) {
	remote := func(s http.Handler, addr string, hdr ...string) int {
		r := httptest.NewRequest("GET", "/__stub/workspaces", nil)
		r.RemoteAddr = addr
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w.Code
	}
	s := newStub(t, Config{})
	if c := remote(s, "127.0.0.1:1"); c != 200 {
		t.Errorf("loopback: %d", c)
	}
	if c := remote(s, "[::1]:1"); c != 200 {
		t.Errorf("loopback v6: %d", c)
	}
	if c := remote(s, "192.0.2.7:1"); c != 403 {
		t.Errorf("remote without a token: %d, want 403", c)
	}
	tok := newStub(t, Config{ControlToken: "ctl-secret"})
	if c := remote(tok, "127.0.0.1:1"); c != 401 {
		t.Errorf("token set, none sent: %d, want 401", c)
	}
	if c := remote(tok, "192.0.2.7:1", "Authorization", "Bearer ctl-secret"); c != 200 {
		t.Errorf("remote with the token: %d", c)
	}
	if c := remote(tok, "192.0.2.7:1", "Authorization", "Bearer wrong"); c != 401 {
		t.Errorf("remote with a wrong token: %d", c)
	}
	if c := remote(newStub(t, Config{ControlOpen: true}), "192.0.2.7:1"); c != 200 {
		t.Errorf("open: %d", c)
	}
	sep := newStub(t, Config{SeparateControl: true})
	if c := remote(sep, "127.0.0.1:1"); c != 404 {
		t.Errorf("separate control, main handler: %d, want 404", c)
	}
	if w := ctl(t, sep.ControlHandler(), "GET", "/__stub/workspaces", ""); w.Code != 200 {
		t.Errorf("separate control handler: %d", w.Code)
	}
}

// TestControlLargeBody: a workspace's data may be far larger than the
// token endpoint's 64 KiB bound; the control API bounds its own bodies.
func TestControlLargeBody(t *testing.T) {
	s := newStub(t, Config{})
	raw, err := json.Marshal(benchdata.Integrations(500))
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) <= MaxBodyBytes {
		t.Fatalf("the body is only %d bytes", len(raw))
	}
	if w := ctl(t, s, "PUT", "/__stub/workspaces/default/integrations", `{"integrations":`+string(raw)+`}`); w.Code != 200 || !strings.Contains(w.Body.String(), `"integrations":500`) {
		t.Fatalf("replace 500: %d %.300s", w.Code, w.Body)
	}
}
