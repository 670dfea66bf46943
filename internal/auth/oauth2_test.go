package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/torqapi/integrations/internal/auth"
	"github.com/torqapi/integrations/internal/rpcstatus"
)

// newServer serves the token endpoint and one protected route with a.
func newServer(t *testing.T, a *auth.Authenticator) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/auth/token", a.ServeToken)
	mux.HandleFunc("GET /v1alpha/integrations", func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Authenticate(r)
		if err != nil {
			rpcstatus.Write(w, err)
			return
		}
		_, _ = w.Write([]byte(p.ID))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestOAuth2ClientCredentials runs golang.org/x/oauth2's client-credentials
// flow, as the client package and users do, against the token endpoint,
// with a secret that needs the RFC 6749 2.3.1 encoding.
func TestOAuth2ClientCredentials(t *testing.T) {
	const id, secret = "team client+1", "s3cr+t/with=$"
	a := newAuth(t, auth.Config{ClientID: id, ClientSecret: secret, Tokens: []string{}}, nil)
	srv := newServer(t, a)
	tests := []struct {
		name          string
		id, secret    string
		style         oauth2.AuthStyle
		wantErrorCode string
	}{
		{"header", id, secret, oauth2.AuthStyleInHeader, ""},
		{"params", id, secret, oauth2.AuthStyleInParams, ""},
		{"header, wrong secret", id, "s3cr+t/with=%", oauth2.AuthStyleInHeader, "invalid_client"},
		{"params, wrong secret", id, "s3cr t/with=$", oauth2.AuthStyleInParams, "invalid_client"},
		{"header, wrong id", "team client 1", secret, oauth2.AuthStyleInHeader, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := clientcredentials.Config{
				ClientID:     tt.id,
				ClientSecret: tt.secret,
				TokenURL:     srv.URL + "/v1/auth/token",
				AuthStyle:    tt.style,
			}
			ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client())
			tok, err := cfg.Token(ctx)
			if tt.wantErrorCode != "" {
				re, ok := err.(*oauth2.RetrieveError)
				if !ok {
					t.Fatalf("want *oauth2.RetrieveError, got %T %v", err, err)
				}
				if re.ErrorCode != tt.wantErrorCode || re.Response.StatusCode != http.StatusUnauthorized {
					t.Errorf("got %q HTTP %d, want %q 401", re.ErrorCode, re.Response.StatusCode, tt.wantErrorCode)
				}
				if strings.Contains(err.Error(), "s3cr") {
					t.Errorf("error repeats the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			// x/oauth2 turns expires_in into Expiry against its own clock.
			if left := time.Until(tok.Expiry); tok.TokenType != "Bearer" || left < 59*time.Minute || left > time.Hour {
				t.Errorf("token type %q, expires in %v; want Bearer, 1h", tok.TokenType, left)
			}
			resp, err := cfg.Client(ctx).Get(srv.URL + "/v1alpha/integrations")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			buf := make([]byte, 256)
			n, _ := resp.Body.Read(buf)
			if resp.StatusCode != http.StatusOK || string(buf[:n]) != "client:"+id {
				t.Errorf("protected call: HTTP %d, body %q", resp.StatusCode, buf[:n])
			}
		})
	}
}
