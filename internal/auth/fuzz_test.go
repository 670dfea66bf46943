package auth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/torqapi/integrations/internal/auth"
	"github.com/torqapi/integrations/internal/rpcstatus"
)

// FuzzAuthenticate checks any Authorization header: the answer is a
// principal or a 401/403 *rpcstatus.Error with Torq's message; a header
// is accepted only when it carries a configured static token or a token
// this Authenticator issued, byte for byte (any change to an issued token
// is refused); and no answer repeats the token.
func FuzzAuthenticate(f *testing.F) {
	c := &clock{now: t0}
	a, err := auth.New(auth.Config{Tokens: []string{auth.DemoToken}, DeniedTokens: []string{"read-only-token"}, SigningKey: testKey, Now: c.Now})
	if err != nil {
		f.Fatal(err)
	}
	issued, _ := a.IssueToken("fuzz-client")
	for _, seed := range []string{
		"Bearer " + auth.DemoToken, "bearer  " + auth.DemoToken, "Bearer " + issued, "Bearer read-only-token",
		"Bearer " + issued[:len(issued)-1] + "A", "Bearer tqs1.", "Bearer tqs1..", "Basic dXNlcjpwYXNz", "Bearer", "", "Bearer a b",
		"Bearer " + strings.Repeat("x", 5000),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodGet, "/v1alpha/integrations", nil)
		r.Header["Authorization"] = []string{header}
		p, err := a.Authenticate(r)
		scheme, rest, _ := strings.Cut(header, " ")
		token := strings.TrimLeft(rest, " ")
		if err == nil {
			if !strings.EqualFold(scheme, "Bearer") || (token != auth.DemoToken && token != issued) {
				t.Fatalf("accepted %q as %q", header, p.ID)
			}
			return
		}
		e, ok := err.(*rpcstatus.Error)
		if !ok {
			t.Fatalf("error %T, want *rpcstatus.Error", err)
		}
		switch e.Code {
		case rpcstatus.Unauthenticated:
			if e.Message != auth.MsgUnauthenticated {
				t.Fatalf("message %q", e.Message)
			}
		case rpcstatus.PermissionDenied:
			if token != "read-only-token" {
				t.Fatalf("403 for %q", header)
			}
		default:
			t.Fatalf("code %v for %q", e.Code, header)
		}
		if len(token) >= 8 {
			body, _ := rpcstatus.Marshal(e)
			for _, s := range append([]string{string(body), e.Message}, e.Header.Values("Www-Authenticate")...) {
				if strings.Contains(s, token) {
					t.Fatalf("the answer repeats the token: %s", s)
				}
			}
		}
	})
}

// FuzzServeToken sends any method, Content-Type, Authorization and body
// to the token endpoint: every answer carries no-store, no-cache and
// Torq's Content-Type, is RFC 6749 JSON (a token for 200, an error
// otherwise) with a status of the endpoint's set, issues a token only for
// the right credentials, and never repeats the secret.
func FuzzServeToken(f *testing.F) {
	const secret = "fuzz-s3cr+t/with=$"
	a, err := auth.New(auth.Config{ClientID: "fuzz-client", ClientSecret: secret, SigningKey: testKey, Now: (&clock{now: t0}).Now, TokenTTL: time.Minute})
	if err != nil {
		f.Fatal(err)
	}
	good := httptest.NewRequest(http.MethodPost, "/", nil)
	good.SetBasicAuth("fuzz-client", "fuzz-s3cr%2Bt%2Fwith%3D%24")
	basic := good.Header.Get("Authorization")
	form := "application/x-www-form-urlencoded"
	f.Add("POST", form, basic, "grant_type=client_credentials")
	f.Add("POST", form, "", "grant_type=client_credentials&client_id=fuzz-client&client_secret=fuzz-s3cr%2Bt%2Fwith%3D%24")
	f.Add("POST", form, basic, "grant_type=password")
	f.Add("POST", form, basic, "grant_type=%zz")
	f.Add("POST", "application/json", basic, `{"grant_type":"client_credentials"}`)
	f.Add("GET", "", "", "")
	f.Add("DELETE", form, "Bearer x", "a=1&a=2")
	f.Fuzz(func(t *testing.T, method, contentType, authorization, body string) {
		if !validMethod(method) {
			return
		}
		r := httptest.NewRequest(http.MethodPost, "/v1/auth/token", strings.NewReader(body))
		r.Method = method
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		w := httptest.NewRecorder()
		a.ServeToken(w, r)
		h := w.Header()
		if h.Get("Cache-Control") != "no-store" || h.Get("Pragma") != "no-cache" || h.Get("Content-Type") != "application/json;charset=UTF-8" {
			t.Fatalf("headers %v", h)
		}
		switch w.Code {
		case 200, 400, 401, 405, 413:
		default:
			t.Fatalf("status %d", w.Code)
		}
		if strings.Contains(w.Body.String(), secret) || strings.Contains(w.Body.String(), "s3cr") {
			t.Fatalf("the body repeats the secret: %s", w.Body)
		}
		dec := json.NewDecoder(w.Body)
		dec.DisallowUnknownFields()
		if w.Code == 200 {
			var tok auth.TokenResponse
			if err := dec.Decode(&tok); err != nil || tok.TokenType != "Bearer" || tok.ExpiresIn != 60 {
				t.Fatalf("200 body: %+v, %v", tok, err)
			}
			if method != http.MethodPost {
				t.Fatalf("a token for %s", method)
			}
			ar := httptest.NewRequest(http.MethodGet, "/", nil)
			ar.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			if p, err := a.Authenticate(ar); err != nil || p.ID != "client:fuzz-client" {
				t.Fatalf("issued token: %q, %v", p.ID, err)
			}
			return
		}
		var te auth.TokenError
		if err := dec.Decode(&te); err != nil || te.Error == "" || te.ErrorDescription == "" {
			t.Fatalf("%d body: %+v, %v", w.Code, te, err)
		}
	})
}

// validMethod reports whether m is an HTTP token, as net/http requires of
// a request's method before any handler sees it.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
