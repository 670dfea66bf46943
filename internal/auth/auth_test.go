package auth_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/torqapi/integrations/internal/auth"
	"github.com/torqapi/integrations/internal/golden"
	"github.com/torqapi/integrations/internal/rpcstatus"
)

// t0 is the fixed time the tests' clocks start at.
var t0 = time.Date(2026, 3, 9, 8, 40, 18, 0, time.UTC)

// testKey is a fixed signing key so that issued tokens are reproducible.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// clock is an injectable clock for one test goroutine.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// newAuth builds an Authenticator on cfg with the test key and clock c.
func newAuth(t *testing.T, cfg auth.Config, c *clock) *auth.Authenticator {
	t.Helper()
	if cfg.SigningKey == nil {
		cfg.SigningKey = testKey
	}
	if c != nil {
		cfg.Now = c.Now
	}
	a, err := auth.New(cfg)
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	return a
}

func TestAuthenticate(t *testing.T) {
	c := &clock{now: t0}
	a := newAuth(t, auth.Config{
		Tokens:       []string{auth.DemoToken, "second-token"},
		DeniedTokens: []string{"read-only-token"},
		ClientID:     "team-client",
		TokenTTL:     time.Hour,
	}, c)
	issued, _ := a.IssueToken("team-client")
	otherKey := newAuth(t, auth.Config{SigningKey: []byte("another-signing-key-of-32-bytes!")}, c)
	foreign, _ := otherKey.IssueToken("team-client")
	dot := strings.LastIndexByte(issued, '.')
	badMAC := issued[:dot+1] + strings.Repeat("A", len(issued)-dot-1)
	tampered := strings.Replace(issued, "tqs1.", "tqs1.A", 1)

	const (
		plain        = `Bearer realm="torq"`
		badRequest   = `Bearer realm="torq", error="invalid_request", error_description="The Authorization header must be Bearer followed by exactly one token."`
		badToken     = `Bearer realm="torq", error="invalid_token", error_description="The access token is invalid."`
		expiredToken = `Bearer realm="torq", error="invalid_token", error_description="The access token expired."`
		denied       = `Bearer realm="torq", error="insufficient_scope", error_description="The access token does not grant access to this resource."`
	)
	tests := []struct {
		name      string
		headers   []string // Authorization values; nil => none
		advance   time.Duration
		wantCode  rpcstatus.Code // OK => authenticated
		wantID    string
		wantChall string
	}{
		{name: "demo token", headers: []string{"Bearer torq-stub-token"}, wantID: "token#2923d265"},
		{name: "second static token", headers: []string{"Bearer second-token"}, wantID: "token#"},
		{name: "scheme lower case", headers: []string{"bearer torq-stub-token"}, wantID: "token#2923d265"},
		{name: "scheme upper case, two spaces", headers: []string{"BEARER  torq-stub-token"}, wantID: "token#2923d265"},
		{name: "issued token", headers: []string{"Bearer " + issued}, wantID: "client:team-client"},
		{name: "issued token just before expiry", headers: []string{"Bearer " + issued}, advance: time.Hour - time.Nanosecond, wantID: "client:team-client"},
		{name: "issued token at expiry", headers: []string{"Bearer " + issued}, advance: time.Hour, wantCode: rpcstatus.Unauthenticated, wantChall: expiredToken},
		{name: "missing", wantCode: rpcstatus.Unauthenticated, wantChall: plain},
		{name: "empty header", headers: []string{""}, wantCode: rpcstatus.Unauthenticated, wantChall: plain},
		{name: "basic scheme", headers: []string{"Basic dG9ycTpzZWNyZXQ="}, wantCode: rpcstatus.Unauthenticated, wantChall: plain},
		{name: "token without scheme", headers: []string{"torq-stub-token"}, wantCode: rpcstatus.Unauthenticated, wantChall: plain},
		{name: "scheme only", headers: []string{"Bearer"}, wantCode: rpcstatus.Unauthenticated, wantChall: badRequest},
		{name: "scheme and space", headers: []string{"Bearer "}, wantCode: rpcstatus.Unauthenticated, wantChall: badRequest},
		{name: "extra part", headers: []string{"Bearer torq-stub-token extra"}, wantCode: rpcstatus.Unauthenticated, wantChall: badRequest},
		{name: "bad characters", headers: []string{`Bearer torq"stub`}, wantCode: rpcstatus.Unauthenticated, wantChall: badRequest},
		{name: "two headers", headers: []string{"Bearer torq-stub-token", "Bearer torq-stub-token"}, wantCode: rpcstatus.Unauthenticated,
			wantChall: `Bearer realm="torq", error="invalid_request", error_description="The request has more than one Authorization header."`},
		{name: "unknown token", headers: []string{"Bearer not-a-known-token"}, wantCode: rpcstatus.Unauthenticated, wantChall: badToken},
		{name: "token case matters", headers: []string{"Bearer TORQ-STUB-TOKEN"}, wantCode: rpcstatus.Unauthenticated, wantChall: badToken},
		{name: "bad signature", headers: []string{"Bearer " + badMAC}, wantCode: rpcstatus.Unauthenticated, wantChall: badToken},
		{name: "tampered payload", headers: []string{"Bearer " + tampered}, wantCode: rpcstatus.Unauthenticated, wantChall: badToken},
		{name: "signed with another key", headers: []string{"Bearer " + foreign}, wantCode: rpcstatus.Unauthenticated, wantChall: badToken},
		{name: "prefix only", headers: []string{"Bearer tqs1."}, wantCode: rpcstatus.Unauthenticated, wantChall: badToken},
		{name: "denied token", headers: []string{"Bearer read-only-token"}, wantCode: rpcstatus.PermissionDenied, wantID: "token#", wantChall: denied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.now = t0.Add(tt.advance)
			r := httptest.NewRequest(http.MethodGet, "/v1alpha/integrations", nil)
			for _, h := range tt.headers {
				r.Header.Add("Authorization", h)
			}
			p, err := a.Authenticate(r)
			if !strings.HasPrefix(p.ID, tt.wantID) {
				t.Errorf("principal = %q, want prefix %q", p.ID, tt.wantID)
			}
			if tt.wantCode == rpcstatus.OK {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				if tt.wantID == "token#" && len(p.ID) != len("token#")+8 {
					t.Errorf("principal = %q, want token#<8 hex>", p.ID)
				}
				return
			}
			var e *rpcstatus.Error
			if !errors.As(err, &e) {
				t.Fatalf("want *rpcstatus.Error, got %T %v", err, err)
			}
			wantMsg := auth.MsgUnauthenticated
			if tt.wantCode == rpcstatus.PermissionDenied {
				wantMsg = auth.MsgPermissionDenied
			}
			if e.Code != tt.wantCode || e.Message != wantMsg {
				t.Errorf("got code %d %q, want %d %q", e.Code, e.Message, tt.wantCode, wantMsg)
			}
			if got := e.Header.Get("WWW-Authenticate"); got != tt.wantChall {
				t.Errorf("WWW-Authenticate = %s\nwant %s", got, tt.wantChall)
			}
			for _, h := range tt.headers {
				_, tok, _ := strings.Cut(h, " ")
				if len(tok) > 3 && (strings.Contains(err.Error(), tok) || strings.Contains(e.Header.Get("WWW-Authenticate"), tok) || strings.Contains(p.ID, tok)) {
					t.Errorf("the token leaks into the error, header or principal")
				}
			}
		})
	}
}

// TestAuthenticateWire checks the bodies that reach the client when the
// errors go through the one error writer.
func TestAuthenticateWire(t *testing.T) {
	a := newAuth(t, auth.Config{DeniedTokens: []string{"read-only-token"}}, &clock{now: t0})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := a.Authenticate(r); err != nil {
			rpcstatus.Write(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	tests := []struct {
		name, header string
		wantStatus   int
		golden       string
	}{
		{"ok", "Bearer torq-stub-token", http.StatusNoContent, ""},
		{"missing", "", http.StatusUnauthorized, "unauthenticated.json"},
		{"unknown", "Bearer nope", http.StatusUnauthorized, "unauthenticated.json"},
		{"denied", "Bearer read-only-token", http.StatusForbidden, "permission_denied.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/v1alpha/integrations", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", w.Code, tt.wantStatus)
			}
			if tt.golden != "" {
				if ct := w.Header().Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q", ct)
				}
				if w.Header().Get("WWW-Authenticate") == "" {
					t.Error("no WWW-Authenticate header")
				}
				golden.Check(t, filepath.Join("testdata", tt.golden), w.Body.Bytes())
			}
		})
	}
}

func TestNew(t *testing.T) {
	const secretish = "super secret token"
	tests := []struct {
		name    string
		cfg     auth.Config
		wantErr string
	}{
		{"zero config", auth.Config{}, ""},
		{"no static tokens", auth.Config{Tokens: []string{}}, ""},
		{"empty key means random", auth.Config{SigningKey: []byte{}}, ""},
		{"short key", auth.Config{SigningKey: []byte("short")}, "signing key is 5 bytes, want at least 16"},
		{"ttl too short", auth.Config{TokenTTL: time.Millisecond}, "token TTL 1ms is out of range"},
		{"ttl negative", auth.Config{TokenTTL: -time.Hour}, "out of range"},
		{"ttl too long", auth.Config{TokenTTL: 2 * auth.MaxTokenTTL}, "out of range"},
		{"token with space", auth.Config{Tokens: []string{"ok-token", secretish}}, "token #2 is not a valid bearer token"},
		{"empty token", auth.Config{Tokens: []string{""}}, "token #1 is not a valid bearer token"},
		{"denied token with space", auth.Config{DeniedTokens: []string{secretish}}, "denied token #1 is not a valid bearer token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := auth.New(tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("want no error, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), secretish) {
				t.Errorf("error repeats the token: %v", err)
			}
		})
	}
}

// TestNewDefaults checks the zero Config: demo token accepted, demo client
// served, random key (two zero-config authenticators reject each other's
// tokens).
func TestNewDefaults(t *testing.T) {
	a1, err := auth.New(auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	a2, err := auth.New(auth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+auth.DemoToken)
	if _, err := a1.Authenticate(r); err != nil {
		t.Errorf("demo token rejected: %v", err)
	}
	tok, ttl := a1.IssueToken(auth.DemoClientID)
	if ttl != time.Hour {
		t.Errorf("default TTL = %v, want 1h", ttl)
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	if _, err := a1.Authenticate(r); err != nil {
		t.Errorf("own token rejected: %v", err)
	}
	if _, err := a2.Authenticate(r); err == nil {
		t.Error("a token signed with another random key was accepted")
	}
}

func TestSharedSigningKey(t *testing.T) {
	c := &clock{now: t0}
	key := []byte("replicas-share-this-signing-key!")
	a := newAuth(t, auth.Config{SigningKey: key, ClientID: "replica-client"}, c)
	b := newAuth(t, auth.Config{SigningKey: append([]byte(nil), key...), ClientID: "replica-client"}, c)
	other := newAuth(t, auth.Config{SigningKey: []byte("a-different-signing-key-32-bytes"), ClientID: "replica-client"}, c)
	tests := []struct {
		name           string
		issuer, holder *auth.Authenticator
		wantOK         bool
	}{
		{"a to b", a, b, true},
		{"b to a", b, a, true},
		{"a to other", a, other, false},
		{"other to b", other, b, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, _ := tt.issuer.IssueToken("replica-client")
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			p, err := tt.holder.Authenticate(r)
			if (err == nil) != tt.wantOK {
				t.Fatalf("accepted = %v, want %v (err %v)", err == nil, tt.wantOK, err)
			}
			if tt.wantOK && p.ID != "client:replica-client" {
				t.Errorf("principal = %q", p.ID)
			}
		})
	}
}

// TestIssuedTokenShape checks the compact, recognisable, reproducible form.
func TestIssuedTokenShape(t *testing.T) {
	a := newAuth(t, auth.Config{}, &clock{now: t0})
	tok1, _ := a.IssueToken(auth.DemoClientID)
	tok2, _ := a.IssueToken(auth.DemoClientID)
	if tok1 != tok2 {
		t.Errorf("same key, clock and client gave different tokens")
	}
	if !strings.HasPrefix(tok1, "tqs1.") || strings.Count(tok1, ".") != 2 || len(tok1) > 120 {
		t.Errorf("token %q: want tqs1.<payload>.<mac>, compact", tok1)
	}
	if strings.ContainsAny(tok1, "+/= ") {
		t.Errorf("token %q is not base64url without padding", tok1)
	}
}

// tokenResponse decodes a token endpoint body for the tests.
type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	ExpiresIn        int64  `json:"expires_in"`
	TokenType        string `json:"token_type"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func TestServeToken(t *testing.T) {
	const secret = "s3cr+t/with=$"
	c := &clock{now: t0}
	a := newAuth(t, auth.Config{ClientID: "team-client", ClientSecret: secret, TokenTTL: 90 * time.Second}, c)
	form := "application/x-www-form-urlencoded"
	basic := func(id, sec string) http.Header {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.SetBasicAuth(id, sec)
		return http.Header{"Authorization": r.Header.Values("Authorization")}
	}
	encodedBasic := basic("team-client", "s3cr%2Bt%2Fwith%3D%24")
	tests := []struct {
		name        string
		method      string
		contentType string
		header      http.Header
		body        string
		wantStatus  int
		wantError   string
		golden      string
	}{
		{name: "basic, encoded as RFC 6749 2.3.1", header: encodedBasic, body: "grant_type=client_credentials", wantStatus: 200, golden: "token_ok.json"},
		{name: "basic, sent raw as curl -u does", header: basic("team-client", secret), body: "grant_type=client_credentials", wantStatus: 200},
		{name: "basic with scope", header: encodedBasic, body: "grant_type=client_credentials&scope=read", wantStatus: 200},
		{name: "form credentials", body: "grant_type=client_credentials&client_id=team-client&client_secret=s3cr%2Bt%2Fwith%3D%24", wantStatus: 200},
		{name: "content type with charset", contentType: form + "; charset=utf-8", header: encodedBasic, body: "grant_type=client_credentials", wantStatus: 200},
		{name: "GET", method: http.MethodGet, header: encodedBasic, wantStatus: 405, wantError: "invalid_request", golden: "token_method.json"},
		{name: "DELETE", method: http.MethodDelete, wantStatus: 405, wantError: "invalid_request"},
		{name: "PUT", method: http.MethodPut, header: encodedBasic, body: "grant_type=client_credentials", wantStatus: 405, wantError: "invalid_request"},
		{name: "JSON body", contentType: "application/json", header: encodedBasic, body: `{"grant_type":"client_credentials"}`, wantStatus: 400, wantError: "invalid_request"},
		{name: "no content type", contentType: "-", header: encodedBasic, body: "grant_type=client_credentials", wantStatus: 400, wantError: "invalid_request"},
		{name: "grant_type missing", header: encodedBasic, body: "", wantStatus: 400, wantError: "invalid_request", golden: "token_no_grant.json"},
		{name: "grant_type password", header: encodedBasic, body: "grant_type=password&username=u&password=p", wantStatus: 400, wantError: "unsupported_grant_type", golden: "token_unsupported_grant.json"},
		{name: "grant_type repeated", header: encodedBasic, body: "grant_type=client_credentials&grant_type=client_credentials", wantStatus: 400, wantError: "invalid_request"},
		{name: "bad form encoding", header: encodedBasic, body: "grant_type=%zz", wantStatus: 400, wantError: "invalid_request"},
		{name: "body too large", header: encodedBasic, body: "grant_type=client_credentials&pad=" + strings.Repeat("x", auth.MaxTokenRequestBytes), wantStatus: 413, wantError: "invalid_request"},
		{name: "basic and form both", header: encodedBasic, body: "grant_type=client_credentials&client_id=team-client&client_secret=x", wantStatus: 400, wantError: "invalid_request", golden: "token_two_methods.json"},
		{name: "basic and form id", header: encodedBasic, body: "grant_type=client_credentials&client_id=team-client", wantStatus: 400, wantError: "invalid_request"},
		{name: "form secret without id", body: "grant_type=client_credentials&client_secret=" + secret, wantStatus: 400, wantError: "invalid_request"},
		{name: "no credentials", body: "grant_type=client_credentials", wantStatus: 401, wantError: "invalid_client"},
		{name: "form id without secret", body: "grant_type=client_credentials&client_id=team-client", wantStatus: 401, wantError: "invalid_client"},
		{name: "wrong basic secret", header: basic("team-client", "wrong-secret"), body: "grant_type=client_credentials", wantStatus: 401, wantError: "invalid_client", golden: "token_invalid_client.json"},
		{name: "wrong basic id", header: basic("someone-else", "s3cr%2Bt%2Fwith%3D%24"), body: "grant_type=client_credentials", wantStatus: 401, wantError: "invalid_client"},
		{name: "basic secret decoded wrongly", header: basic("team-client", "s3cr t/with=$"), body: "grant_type=client_credentials", wantStatus: 401, wantError: "invalid_client"},
		{name: "wrong form secret", body: "grant_type=client_credentials&client_id=team-client&client_secret=nope", wantStatus: 401, wantError: "invalid_client"},
		{name: "bearer instead of basic", header: http.Header{"Authorization": {"Bearer torq-stub-token"}}, body: "grant_type=client_credentials", wantStatus: 401, wantError: "invalid_client"},
		{name: "two basic headers", header: http.Header{"Authorization": {encodedBasic.Get("Authorization"), encodedBasic.Get("Authorization")}}, body: "grant_type=client_credentials", wantStatus: 401, wantError: "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			r := httptest.NewRequest(method, "/v1/auth/token", strings.NewReader(tt.body))
			switch tt.contentType {
			case "":
				r.Header.Set("Content-Type", form)
			case "-":
			default:
				r.Header.Set("Content-Type", tt.contentType)
			}
			for k, v := range tt.header {
				r.Header[k] = v
			}
			w := httptest.NewRecorder()
			a.ServeToken(w, r)
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.wantStatus, w.Body)
			}
			h := w.Header()
			if h.Get("Content-Type") != "application/json;charset=UTF-8" || h.Get("Cache-Control") != "no-store" || h.Get("Pragma") != "no-cache" {
				t.Errorf("headers = %v", h)
			}
			if got, want := h.Get("WWW-Authenticate"), map[bool]string{true: `Basic realm="torq"`}[tt.wantStatus == 401]; got != want {
				t.Errorf("WWW-Authenticate = %q, want %q", got, want)
			}
			if got, want := h.Get("Allow"), map[bool]string{true: "POST"}[tt.wantStatus == 405]; got != want {
				t.Errorf("Allow = %q, want %q", got, want)
			}
			if tt.golden != "" {
				golden.Check(t, filepath.Join("testdata", tt.golden), w.Body.Bytes())
			}
			if strings.Contains(w.Body.String(), "s3cr") || strings.Contains(w.Body.String(), "wrong-secret") {
				t.Errorf("body repeats a secret: %s", w.Body)
			}
			var resp tokenResponse
			dec := json.NewDecoder(w.Body)
			dec.DisallowUnknownFields()
			if err := dec.Decode(&resp); err != nil {
				t.Fatalf("body is not the expected JSON: %v", err)
			}
			if tt.wantError != "" {
				if resp.Error != tt.wantError || resp.ErrorDescription == "" || resp.AccessToken != "" {
					t.Errorf("got %+v, want error %q with a description", resp, tt.wantError)
				}
				return
			}
			if resp.TokenType != "Bearer" || resp.ExpiresIn != 90 || resp.Error != "" {
				t.Errorf("got %+v, want a Bearer token for 90 s", resp)
			}
			ar := httptest.NewRequest(http.MethodGet, "/v1alpha/integrations", nil)
			ar.Header.Set("Authorization", "Bearer "+resp.AccessToken)
			p, err := a.Authenticate(ar)
			if err != nil || p.ID != "client:team-client" {
				t.Errorf("issued token: principal %q, err %v", p.ID, err)
			}
		})
	}
}

// digestCreds is a Credentials that knows one token digest and records
// every digest it is asked about.
type digestCreds struct {
	known auth.TokenDigest
	asked []auth.TokenDigest
}

func (c *digestCreds) WorkspaceForToken(d auth.TokenDigest) (string, bool, bool) {
	c.asked = append(c.asked, d)
	return "ws-a", false, d == c.known
}
func (c *digestCreds) ClientWorkspace(string, string) (string, bool) { return "", false }
func (c *digestCreds) WorkspaceForClient(string) (string, bool)      { return "", false }

// TestAuthenticateHashesOnce: the credentials are asked once per request,
// by the token's SHA-256 (never the token), and the principal's id is
// that digest's prefix.
func TestAuthenticateHashesOnce(t *testing.T) {
	const token = "tok-of-a"
	creds := &digestCreds{known: sha256.Sum256([]byte(token))}
	a := newAuth(t, auth.Config{Credentials: creds}, nil)
	r := httptest.NewRequest(http.MethodGet, "/v1alpha/integrations", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	p, err := a.Authenticate(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(creds.asked) != 1 || creds.asked[0] != creds.known {
		t.Fatalf("credentials asked %d times (%x), want once by the token's digest", len(creds.asked), creds.asked)
	}
	if want := "token#" + hex.EncodeToString(creds.known[:4]); p.ID != want || p.Workspace != "ws-a" {
		t.Fatalf("principal %+v, want id %s in ws-a", p, want)
	}
}
