package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// MaxTokenRequestBytes bounds the token endpoint's form body.
const MaxTokenRequestBytes = 64 << 10

// TokenResponse is the token endpoint's success body (RFC 6749 section 5.1),
// exactly as Torq sends it.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// TokenError is the token endpoint's error body (RFC 6749 section 5.2).
type TokenError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
}

// oauthError is a token endpoint failure: an HTTP status and its body.
type oauthError struct {
	status int
	body   TokenError
}

func badRequest(code, description string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, body: TokenError{Error: code, ErrorDescription: description}}
}

// ServeToken serves POST /v1/auth/token: the OAuth2 client-credentials
// grant (RFC 6749 section 4.4) with the one configured client.
//
// The client authenticates with HTTP Basic, whose id and secret are
// form-urlencoded first (RFC 6749 section 2.3.1, as golang.org/x/oauth2
// sends them), or with client_id and client_secret in the form; never both.
// A Basic id or secret that does not match once decoded is also tried as
// sent, so `curl -u id:secret` works with a secret that holds `+` or `%`.
//
// Every answer carries Cache-Control: no-store and Pragma: no-cache. Errors
// are RFC 6749 section 5.2 JSON; none of them repeats a credential.
func (a *Authenticator) ServeToken(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	resp, oerr := a.token(w, r)
	if oerr != nil {
		if oerr.status == http.StatusUnauthorized {
			h.Set("WWW-Authenticate", `Basic realm="`+Realm+`"`)
		}
		if oerr.status == http.StatusMethodNotAllowed {
			h.Set("Allow", http.MethodPost)
		}
		writeJSON(w, oerr.status, oerr.body)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (a *Authenticator) token(w http.ResponseWriter, r *http.Request) (*TokenResponse, *oauthError) {
	if r.Method != http.MethodPost {
		return nil, &oauthError{status: http.StatusMethodNotAllowed, body: TokenError{Error: "invalid_request", ErrorDescription: "The token endpoint accepts POST only."}}
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, badRequest("invalid_request", "The request body must be application/x-www-form-urlencoded.")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxTokenRequestBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &oauthError{status: http.StatusRequestEntityTooLarge, body: TokenError{Error: "invalid_request", ErrorDescription: "The request body is larger than " + strconv.Itoa(MaxTokenRequestBytes) + " bytes."}}
		}
		return nil, badRequest("invalid_request", "The request body could not be read.")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, badRequest("invalid_request", "The request body is not valid form encoding.")
	}
	// RFC 6749 section 3.2: parameters must not be repeated.
	for name, v := range form {
		if len(v) > 1 {
			return nil, badRequest("invalid_request", "The parameter "+strconv.Quote(paramName(name))+" is repeated.")
		}
	}
	switch form.Get("grant_type") {
	case "":
		return nil, badRequest("invalid_request", "The grant_type parameter is missing.")
	case "client_credentials":
	default:
		return nil, badRequest("unsupported_grant_type", "Only grant_type=client_credentials is supported.")
	}
	var clientID string
	_, formID := form["client_id"]
	_, formSecret := form["client_secret"]
	if _, hasAuth := r.Header["Authorization"]; hasAuth {
		// RFC 6749 section 2.3: one authentication method per request.
		if formID || formSecret {
			return nil, badRequest("invalid_request", "Use one client authentication method: HTTP Basic or client_id and client_secret in the body, not both.")
		}
		id, secret, ok := r.BasicAuth()
		if !ok || len(r.Header.Values("Authorization")) != 1 {
			return nil, badClient()
		}
		if clientID, ok = a.checkBasic(id, secret); !ok {
			return nil, badClient()
		}
	} else {
		if formSecret && !formID {
			return nil, badRequest("invalid_request", "client_secret was sent without client_id.")
		}
		if !formID {
			return nil, badClient()
		}
		var ok bool
		if clientID, ok = a.check(form.Get("client_id"), form.Get("client_secret")); !ok {
			return nil, badClient()
		}
	}
	token, ttl := a.IssueToken(clientID)
	return &TokenResponse{AccessToken: token, ExpiresIn: int64(ttl / time.Second), TokenType: "Bearer"}, nil
}

// badClient is the one answer to wrong, missing or unsupported client
// credentials: it says nothing about which part was wrong.
func badClient() *oauthError {
	return &oauthError{status: http.StatusUnauthorized, body: TokenError{Error: "invalid_client", ErrorDescription: "Client authentication failed."}}
}

// checkBasic accepts Basic credentials form-urlencoded (RFC 6749 section
// 2.3.1) or, failing that, as sent, and returns the client id that matched.
func (a *Authenticator) checkBasic(id, secret string) (string, bool) {
	did, err1 := url.QueryUnescape(id)
	dsecret, err2 := url.QueryUnescape(secret)
	decoded, okDecoded := a.check(did, dsecret)
	raw, okRaw := a.check(id, secret)
	switch {
	case err1 == nil && err2 == nil && okDecoded:
		return decoded, true
	case okRaw:
		return raw, true
	}
	return "", false
}

// check looks the client up by id and compares the secret's digest in
// constant time (so neither content nor length leaks); an unknown id costs
// the same comparison.
func (a *Authenticator) check(id, secret string) (string, bool) {
	cl, known := a.creds.Load().clients[id]
	got := sha256.Sum256([]byte(secret))
	ok := subtle.ConstantTimeCompare(got[:], cl.secret[:]) == 1
	return id, known && ok
}

// paramName names a parameter in an error description: the parameters of
// this grant by name, anything else generically, since an unknown name is
// the client's text and could be anything.
func paramName(s string) string {
	switch s {
	case "grant_type", "client_id", "client_secret", "scope":
		return s
	}
	return "(unknown)"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
