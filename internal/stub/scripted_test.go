package stub

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/torqapi/integrations/internal/rpcstatus"
	"github.com/torqapi/integrations/internal/script"
)

// scriptedServer is the whole stub on a real listener, for steps that break
// the connection, with real sleeps.
func scriptedServer(t *testing.T) (*Stub, *httptest.Server, *http.Client) {
	t.Helper()
	s := newStub(t, Config{})
	s.sleep = sleepContext
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	// A connection per request: net/http retries an idempotent request
	// transparently when a reused connection breaks, which would consume a
	// second step.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	t.Cleanup(c.CloseIdleConnections)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return s, srv, c
}

type result struct {
	status int
	header http.Header
	body   string
	err    error // from the request or from reading the body
}

func call(c *http.Client, url string) result {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", demoAuth)
	resp, err := c.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, header: resp.Header, body: string(b), err: err}
}

func TestScriptedStatuses(t *testing.T) {
	s, srv, c := scriptedServer(t)
	list := srv.URL + "/public/v1alpha/integrations"
	normal := call(c, list)
	if _, err := s.Scripts().Add(script.Script{Match: script.Match{Workspace: DefaultWorkspace}, Steps: []script.Step{
		{Status: 503}, {Status: 503}, {Pass: true},
		{Status: 429, RetryAfter: 2 * time.Second},
		{Status: 404, Message: "no such workspace"},
		{Status: 302},
		{Status: 502, Body: "html"},
		{Delay: 10 * time.Millisecond},
	}}); err != nil {
		t.Fatal(err)
	}
	var got []int
	var rs []result
	for range 9 {
		r := call(c, list)
		got = append(got, r.status)
		rs = append(rs, r)
	}
	if want := []int{503, 503, 200, 429, 404, 302, 502, 200, 200}; !slices.Equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	if rs[2].body != normal.body || rs[7].body != normal.body || rs[8].body != normal.body {
		t.Error("a pass step, a delay step or the exhausted script did not answer normally")
	}
	for _, i := range []int{0, 3, 4} {
		w := httptest.NewRecorder()
		w.Body.WriteString(rs[i].body)
		w.Code = rs[i].status
		st := status(t, w)
		if want, _ := rpcstatus.CodeForHTTPStatus(rs[i].status); rpcstatus.Code(st.Code) != want {
			t.Errorf("step %d: code %d, want %d", i, st.Code, want)
		}
		if err := testValidator.ValidateStatus([]byte(rs[i].body)); err != nil {
			t.Errorf("step %d: %v", i, err)
		}
	}
	if rs[3].header.Get("Retry-After") != "2" || !strings.Contains(rs[3].body, `"retryDelay":"2s"`) {
		t.Errorf("429: Retry-After %q, body %s", rs[3].header.Get("Retry-After"), rs[3].body)
	}
	if !strings.Contains(rs[4].body, `"message":"no such workspace"`) {
		t.Errorf("message: %s", rs[4].body)
	}
	if rs[5].header.Get("Location") != ExpiredLocation || rs[5].body != "" {
		t.Errorf("302: Location %q body %q", rs[5].header.Get("Location"), rs[5].body)
	}
	if !strings.HasPrefix(rs[6].header.Get("Content-Type"), "text/html") || !strings.Contains(rs[6].body, "502 Bad Gateway") {
		t.Errorf("502: %v %q", rs[6].header, rs[6].body)
	}
}

func TestScriptedFaults(t *testing.T) {
	s, srv, c := scriptedServer(t)
	list := srv.URL + "/public/v1alpha/integrations"
	normal := call(c, list)
	if _, err := s.Scripts().Add(script.Script{Match: script.Match{Workspace: DefaultWorkspace}, Steps: []script.Step{
		{Fault: script.FaultReset},
		{Fault: script.FaultTruncate},
		{Fault: script.FaultDribble, Delay: time.Millisecond},
		{Fault: script.FaultStall, Delay: 20 * time.Millisecond},
	}}); err != nil {
		t.Fatal(err)
	}
	if r := call(c, list); r.err == nil {
		t.Errorf("reset: got %d, want a connection error", r.status)
	}
	r := call(c, list)
	if r.status != 200 || !errors.Is(r.err, io.ErrUnexpectedEOF) || len(r.body) == 0 || len(r.body) >= len(normal.body) {
		t.Errorf("truncate: %d, %d of %d bytes, err %v", r.status, len(r.body), len(normal.body), r.err)
	}
	if r := call(c, list); r.err != nil || r.body != normal.body {
		t.Errorf("dribble: %v, body equal %v", r.err, r.body == normal.body)
	}
	if r := call(c, list); r.err == nil {
		t.Errorf("stall: got %d, want a connection error", r.status)
	}
	if r := call(c, list); r.err != nil || r.status != 200 {
		t.Errorf("after the script: %d %v", r.status, r.err)
	}
}

func TestScriptMatchesQueryAndComesAfterAuth(t *testing.T) {
	s := newStub(t, Config{})
	if _, err := s.Scripts().Add(script.Script{Match: script.Match{Workspace: DefaultWorkspace, Query: map[string]string{"type_id": "slack"}}, Steps: []script.Step{{Status: 500}}}); err != nil {
		t.Fatal(err)
	}
	if w := (request{target: "/public/v1alpha/integrations?type_id=slack"}).do(t, s); w.Code != 401 {
		t.Errorf("without a token: %d, want 401 (auth first, no step consumed)", w.Code)
	}
	if w := get(t, s, "/public/v1alpha/integrations?type_id=webhook"); w.Code != 200 {
		t.Errorf("another type_id: %d", w.Code)
	}
	// The alias is the same parameter.
	if w := get(t, s, "/public/v1alpha/integrations?typeId=slack"); w.Code != 500 || status(t, w).Code != 13 {
		t.Errorf("typeId=slack: %d %s", w.Code, w.Body)
	}
	if w := get(t, s, "/public/v1alpha/integrations?type_id=slack"); w.Code != 200 {
		t.Errorf("exhausted: %d", w.Code)
	}
}
