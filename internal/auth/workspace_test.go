package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
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
