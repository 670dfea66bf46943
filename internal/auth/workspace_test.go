package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/torqapi/integrations/internal/auth"
	"github.com/torqapi/integrations/internal/rpcstatus"
)

func authAs(t *testing.T, a *auth.Authenticator, token string) (auth.Principal, error) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return a.Authenticate(r)
}

func issue(t *testing.T, a *auth.Authenticator, id, secret string) (string, int) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	r := httptest.NewRequest(http.MethodPost, "/v1/auth/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	a.ServeToken(w, r)
	body := w.Body.String()
	_, tok, _ := strings.Cut(body, `"access_token":"`)
	tok, _, _ = strings.Cut(tok, `"`)
	return tok, w.Code
}

// TestWorkspaces: every token and client resolves to its workspace; a
// replaced set takes effect whole, and revokes what it drops, issued
// tokens included.
func TestWorkspaces(t *testing.T) {
	c := &clock{now: t0}
	a := newAuth(t, auth.Config{}, c)
	if err := a.SetWorkspaces([]auth.Workspace{
		{ID: "ws1", Tokens: []string{"tok-1"}, DeniedTokens: []string{"ro-1"}, Clients: []auth.Client{{ID: "client-1", Secret: "secret-1"}}},
		{ID: "ws2", Tokens: []string{"tok-2"}},
	}); err != nil {
		t.Fatal(err)
	}
	for token, ws := range map[string]string{auth.DemoToken: auth.DefaultWorkspace, "tok-1": "ws1", "tok-2": "ws2"} {
		if p, err := authAs(t, a, token); err != nil || p.Workspace != ws {
			t.Errorf("%s: %+v %v, want workspace %s", token, p, err, ws)
		}
	}
	if p, err := authAs(t, a, "ro-1"); p.Workspace != "ws1" || rpcstatus.FromError(err).Code != rpcstatus.PermissionDenied {
		t.Errorf("denied: %+v %v", p, err)
	}
	tok, code := issue(t, a, "client-1", "secret-1")
	if code != 200 {
		t.Fatalf("token endpoint: %d", code)
	}
	if _, code := issue(t, a, "client-1", "wrong"); code != 401 {
		t.Errorf("wrong secret: %d", code)
	}
	if p, err := authAs(t, a, tok); err != nil || p.Workspace != "ws1" || p.ID != "client:client-1" {
		t.Errorf("issued: %+v %v", p, err)
	}
	// Drop ws1: its static token and its issued token stop working.
	if err := a.SetWorkspaces([]auth.Workspace{{ID: "ws2", Tokens: []string{"tok-2"}}}); err != nil {
		t.Fatal(err)
	}
	for _, token := range []string{"tok-1", tok} {
		if _, err := authAs(t, a, token); rpcstatus.FromError(err).Code != rpcstatus.Unauthenticated {
			t.Errorf("after delete, %q: %v, want 401", token[:5], err)
		}
	}
	if _, err := authAs(t, a, auth.DemoToken); err != nil {
		t.Errorf("the default workspace kept its credentials: %v", err)
	}
}

func TestSetWorkspacesRefusesConflicts(t *testing.T) {
	a := newAuth(t, auth.Config{}, &clock{now: t0})
	for name, ws := range map[string][]auth.Workspace{
		"token in two workspaces":  {{ID: "a", Tokens: []string{"same"}}, {ID: "b", Tokens: []string{"same"}}},
		"demo token elsewhere":     {{ID: "a", Tokens: []string{auth.DemoToken}}},
		"client in two workspaces": {{ID: "a", Clients: []auth.Client{{ID: "c", Secret: "s"}}}, {ID: "b", Clients: []auth.Client{{ID: "c", Secret: "t"}}}},
		"malformed token":          {{ID: "a", Tokens: []string{"has space"}}},
		"client without secret":    {{ID: "a", Clients: []auth.Client{{ID: "c"}}}},
	} {
		t.Run(name, func(t *testing.T) {
			if err := a.SetWorkspaces(ws); err == nil {
				t.Fatal("want an error")
			} else if strings.Contains(err.Error(), "same") || strings.Contains(err.Error(), "has space") {
				t.Errorf("the error shows a token: %v", err)
			}
			// Nothing changed.
			if _, err := authAs(t, a, auth.DemoToken); err != nil {
				t.Errorf("after a refused set: %v", err)
			}
		})
	}
}

func TestExpiredIsTyped(t *testing.T) {
	c := &clock{now: t0}
	a := newAuth(t, auth.Config{}, c)
	tok, _ := a.IssueToken(auth.DemoClientID)
	c.now = c.now.Add(2 * auth.DefaultTokenTTL)
	_, err := authAs(t, a, tok)
	var e *auth.ExpiredError
	if !errors.As(err, &e) || rpcstatus.FromError(err).Code != rpcstatus.Unauthenticated {
		t.Errorf("expired: %T %v", err, err)
	}
}
