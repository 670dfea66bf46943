// Package auth is the stub's authentication: bearer tokens on API calls
// (RFC 6750) and the OAuth2 client-credentials token endpoint (RFC 6749
// section 4.4) that Torq serves at https://auth.torq.io/v1/auth/token.
//
// Tokens the endpoint issues are self-verifying: an HMAC-SHA256 over their
// expiry and client id, so any replica that holds the same signing key
// accepts them and no state is shared between replicas.
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/torqapi/integrations/internal/rpcstatus"
)

// MsgUnauthenticated is Torq's documented message for HTTP 401 (code 16).
const MsgUnauthenticated = "Invalid bearer token. If you receive this message more than once try creating a new Client ID/Client Secret or generating a new bearer token."

// MsgPermissionDenied is Torq's documented message for HTTP 403 (code 7).
const MsgPermissionDenied = "You don't have permission to access this resource."

// Demo credentials, used when Config leaves them empty. They are printed by
// the stub at start and documented in the README: they protect nothing.
const (
	// DemoToken is the static bearer token accepted by default.
	DemoToken = "torq-stub-token"
	// DemoClientID is the default client id of the token endpoint.
	DemoClientID = "torq-stub-client-id"
	// DemoClientSecret is the default client secret of the token endpoint.
	DemoClientSecret = "torq-stub-client-secret"
)

// Realm is the realm of every WWW-Authenticate challenge.
const Realm = "torq"

// DefaultTokenTTL is the lifetime of an issued token when Config.TokenTTL is
// zero: one hour, as Torq documents.
const DefaultTokenTTL = time.Hour

// MaxTokenTTL bounds Config.TokenTTL so that expiry times cannot overflow.
const MaxTokenTTL = 365 * 24 * time.Hour

// MinSigningKeyLen is the shortest Config.SigningKey New accepts.
const MinSigningKeyLen = 16

// maxTokenLen bounds the bearer token we look at; longer is malformed.
const maxTokenLen = 4096

// issuedPrefix starts every token the endpoint issues, so that they are
// recognisable in a header dump and are versioned. The MAC covers it.
const issuedPrefix = "tqs1."

// Config configures an Authenticator. The zero value accepts DemoToken and
// issues tokens to DemoClientID/DemoClientSecret for one hour.
type Config struct {
	// Tokens are the accepted static bearer tokens; nil => []string{DemoToken}.
	// An empty non-nil slice accepts no static token (issued tokens only).
	Tokens []string
	// DeniedTokens authenticate, but every call they make answers 403 code 7.
	// A token in both lists is denied.
	DeniedTokens []string
	// ClientID and ClientSecret are the one client the token endpoint knows;
	// "" => DemoClientID / DemoClientSecret.
	ClientID, ClientSecret string
	// TokenTTL is the lifetime of issued tokens; 0 => DefaultTokenTTL.
	TokenTTL time.Duration
	// SigningKey signs issued tokens; replicas that share it accept each
	// other's tokens. Empty => 32 random bytes at New (tokens then die with
	// the process).
	SigningKey []byte
	// Credentials resolve tokens and clients to workspaces; nil => the
	// credentials above, as the one workspace DefaultWorkspace.
	Credentials Credentials
	// Now is the clock; nil => time.Now.
	Now func() time.Time
}

// Principal is who made a request: a stable identity that is never secret,
// fit for rate-limit keys and logs, and the workspace it belongs to.
type Principal struct {
	// ID is "token#<first 8 hex digits of the token's SHA-256>" for a
	// static token and "client:<client id>" for an issued one.
	ID string
	// Workspace is the id of the workspace whose credential it is.
	Workspace string
}

// DefaultWorkspace is the workspace Config's credentials belong to.
const DefaultWorkspace = "default"

// Workspace is the credentials of one workspace: the static tokens it
// accepts, the tokens it denies (they authenticate, every call answers
// 403), and the OAuth2 clients of the token endpoint.
type Workspace struct {
	ID           string
	Tokens       []string
	DeniedTokens []string
	Clients      []Client
}

// Client is an OAuth2 client of the token endpoint.
type Client struct {
	ID, Secret string
}

// Credentials resolve credentials to workspaces: the stub's workspace
// store implements it, so the credentials and the data of a workspace
// change together. Tokens and secrets are compared by digest; a Credentials
// never keeps them.
type Credentials interface {
	// WorkspaceForToken says which workspace the static token whose
	// SHA-256 is digest acts for, and whether it is denied (authenticates,
	// every call answers 403). The Authenticator hashes each token once
	// and never hands the token itself on.
	WorkspaceForToken(digest TokenDigest) (id string, denied, ok bool)
	// ClientWorkspace checks an OAuth2 client's secret and says which
	// workspace the client belongs to.
	ClientWorkspace(clientID, secret string) (id string, ok bool)
	// WorkspaceForClient says which workspace a client id belongs to, for
	// a token the endpoint issued to it.
	WorkspaceForClient(clientID string) (id string, ok bool)
}

// TokenDigest is the SHA-256 of a bearer token: static tokens are held and
// looked up by it.
type TokenDigest = [sha256.Size]byte

// credentials are Config's own credentials, one workspace's, for an
// Authenticator without Config.Credentials.
type credentials struct {
	workspace string
	tokens    map[[sha256.Size]byte]bool // digest => denied
	clients   map[string][sha256.Size]byte
}

func newCredentials(w Workspace) (*credentials, error) {
	c := &credentials{workspace: w.ID, tokens: map[[sha256.Size]byte]bool{}, clients: map[string][sha256.Size]byte{}}
	for _, list := range []struct {
		what   string
		tokens []string
		denied bool
	}{{"token", w.Tokens, false}, {"denied token", w.DeniedTokens, true}} {
		for i, t := range list.tokens {
			if !IsToken68(t) {
				return nil, fmt.Errorf("auth: %s #%d is not a valid bearer token (want 1-%d characters of A-Z a-z 0-9 - . _ ~ + / and trailing =)", list.what, i+1, maxTokenLen)
			}
			d := sha256.Sum256([]byte(t))
			// A token in both lists is denied.
			c.tokens[d] = c.tokens[d] || list.denied
		}
	}
	for _, cl := range w.Clients {
		c.clients[cl.ID] = sha256.Sum256([]byte(cl.Secret))
	}
	return c, nil
}

// WorkspaceForToken looks the token up by its SHA-256: the time taken
// depends on the digest alone, which says nothing usable about valid
// tokens.
func (c *credentials) WorkspaceForToken(digest TokenDigest) (string, bool, bool) {
	denied, ok := c.tokens[digest]
	return c.workspace, denied, ok
}

// ClientWorkspace compares the secret's digest in constant time; an
// unknown id costs the same comparison.
func (c *credentials) ClientWorkspace(clientID, secret string) (string, bool) {
	want, known := c.clients[clientID]
	got := sha256.Sum256([]byte(secret))
	ok := subtle.ConstantTimeCompare(got[:], want[:]) == 1
	return c.workspace, known && ok
}

func (c *credentials) WorkspaceForClient(clientID string) (string, bool) {
	_, ok := c.clients[clientID]
	return c.workspace, ok
}

// Authenticator checks bearer tokens and serves the token endpoint. It is
// safe for concurrent use.
type Authenticator struct {
	creds Credentials
	ttl   time.Duration
	key   []byte
	now   func() time.Time
}

// Workspace returns the credentials Config gives the default workspace,
// the demo ones where it gives none.
func (cfg Config) Workspace() Workspace {
	id, secret := cfg.ClientID, cfg.ClientSecret
	if id == "" {
		id = DemoClientID
	}
	if secret == "" {
		secret = DemoClientSecret
	}
	tokens := cfg.Tokens
	if tokens == nil {
		tokens = []string{DemoToken}
	}
	return Workspace{ID: DefaultWorkspace, Tokens: tokens, DeniedTokens: cfg.DeniedTokens, Clients: []Client{{ID: id, Secret: secret}}}
}

// New validates cfg and returns an Authenticator. Errors never contain a
// token or secret.
func New(cfg Config) (*Authenticator, error) {
	a := &Authenticator{ttl: cfg.TokenTTL, now: cfg.Now, creds: cfg.Credentials}
	if a.ttl == 0 {
		a.ttl = DefaultTokenTTL
	}
	if a.ttl < time.Second || a.ttl > MaxTokenTTL {
		return nil, fmt.Errorf("auth: token TTL %v is out of range [1s, %v]", a.ttl, MaxTokenTTL)
	}
	if a.now == nil {
		a.now = time.Now
	}
	switch n := len(cfg.SigningKey); {
	case n == 0:
		a.key = make([]byte, 32)
		if _, err := rand.Read(a.key); err != nil {
			return nil, fmt.Errorf("auth: generate signing key: %w", err)
		}
	case n < MinSigningKeyLen:
		return nil, fmt.Errorf("auth: signing key is %d bytes, want at least %d", n, MinSigningKeyLen)
	default:
		a.key = append([]byte(nil), cfg.SigningKey...)
	}
	if a.creds == nil {
		c, err := newCredentials(cfg.Workspace())
		if err != nil {
			return nil, err
		}
		a.creds = c
	}
	return a, nil
}

// IsToken68 reports whether s is an RFC 6750 b64token, the one rule of
// what a bearer token may be (the workspace store holds tokens to it too):
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func IsToken68(s string) bool {
	if s == "" || len(s) > maxTokenLen {
		return false
	}
	end := strings.TrimRight(s, "=")
	if end == "" {
		return false
	}
	for i := 0; i < len(end); i++ {
		c := end[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}

// Authenticate checks r's `Authorization: Bearer <token>`. The scheme is
// case-insensitive (RFC 7235 section 2.1) and followed by one or more spaces
// and exactly one b64token.
//
// The error is always an *rpcstatus.Error: code 16 with MsgUnauthenticated
// and an RFC 6750 WWW-Authenticate challenge when the token is missing,
// malformed, unknown, expired or badly signed; code 7 with
// MsgPermissionDenied for a denied token, in which case the Principal is
// returned too (the caller is known, just not allowed).
func (a *Authenticator) Authenticate(r *http.Request) (Principal, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return Principal{}, unauthenticated("", "")
	}
	if len(values) > 1 {
		return Principal{}, unauthenticated("invalid_request", "The request has more than one Authorization header.")
	}
	scheme, rest, _ := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		// RFC 6750 section 3.1: a request without bearer credentials gets a
		// challenge with no error code.
		return Principal{}, unauthenticated("", "")
	}
	token := strings.TrimLeft(rest, " ")
	if !IsToken68(token) {
		return Principal{}, unauthenticated("invalid_request", "The Authorization header must be Bearer followed by exactly one token.")
	}
	d := sha256.Sum256([]byte(token))
	if ws, denied, ok := a.creds.WorkspaceForToken(d); ok {
		p := Principal{ID: "token#" + hex.EncodeToString(d[:4]), Workspace: ws}
		if denied {
			return p, PermissionDenied()
		}
		return p, nil
	}
	if strings.HasPrefix(token, issuedPrefix) {
		clientID, err := a.verify(token)
		switch {
		case err == nil:
			// The client must still exist: deleting a workspace revokes
			// the tokens issued to its clients.
			if ws, ok := a.creds.WorkspaceForClient(clientID); ok {
				return Principal{ID: "client:" + clientID, Workspace: ws}, nil
			}
		case errors.Is(err, errExpired):
			return Principal{}, &ExpiredError{status: unauthenticated("invalid_token", "The access token expired.")}
		}
	}
	return Principal{}, unauthenticated("invalid_token", "The access token is invalid.")
}

// Unauthenticated is the answer to a token that acts for no workspace.
func Unauthenticated() *rpcstatus.Error {
	return unauthenticated("invalid_token", "The access token is invalid.")
}

// PermissionDenied is the answer to a denied token, built anew for each
// caller: Torq's message and the RFC 6750 challenge a real 403 carries. The
// stub's forced 403s (Prefer, scripts) answer it too.
func PermissionDenied() *rpcstatus.Error {
	return &rpcstatus.Error{
		Code:    rpcstatus.PermissionDenied,
		Message: MsgPermissionDenied,
		Header:  http.Header{"Www-Authenticate": {challenge("insufficient_scope", "The access token does not grant access to this resource.")}},
	}
}

// ExpiredError is the error for an issued token past its expiry: a 401
// UNAUTHENTICATED google.rpc.Status, which the stub may answer as Torq's
// documented 302 instead.
type ExpiredError struct {
	status *rpcstatus.Error
}

func (e *ExpiredError) Error() string { return e.status.Error() }

// Unwrap gives rpcstatus the Status to write.
func (e *ExpiredError) Unwrap() error { return e.status }

func unauthenticated(code, description string) *rpcstatus.Error {
	return &rpcstatus.Error{
		Code:    rpcstatus.Unauthenticated,
		Message: MsgUnauthenticated,
		Header:  http.Header{"Www-Authenticate": {challenge(code, description)}},
	}
}

// challenge builds an RFC 6750 section 3 Bearer challenge. The values are
// constants of this package and need no escaping.
func challenge(code, description string) string {
	c := `Bearer realm="` + Realm + `"`
	if code != "" {
		c += `, error="` + code + `"`
	}
	if description != "" {
		c += `, error_description="` + description + `"`
	}
	return c
}

// IssueToken mints a token for clientID that expires TokenTTL from now, and
// returns it with its lifetime.
//
// The token is issuedPrefix + base64url(payload) + "." + base64url(mac),
// where payload is the expiry (Unix nanoseconds, 8 bytes big-endian)
// followed by the client id, and mac is HMAC-SHA256 over everything before
// the last dot.
func (a *Authenticator) IssueToken(clientID string) (token string, expiresIn time.Duration) {
	exp := a.now().Add(a.ttl).UnixNano()
	payload := make([]byte, 8, 8+len(clientID))
	binary.BigEndian.PutUint64(payload, uint64(exp))
	payload = append(payload, clientID...)
	signed := issuedPrefix + base64.RawURLEncoding.EncodeToString(payload)
	return signed + "." + base64.RawURLEncoding.EncodeToString(a.mac(signed)), a.ttl
}

var (
	errExpired  = errors.New("auth: token expired")
	errBadToken = errors.New("auth: token invalid")
)

// verify checks an issued token's MAC, then its expiry, and returns its
// client id.
func (a *Authenticator) verify(token string) (string, error) {
	dot := strings.LastIndexByte(token, '.')
	if dot <= len(issuedPrefix) {
		return "", errBadToken
	}
	signed, macText := token[:dot], token[dot+1:]
	mac, err := base64.RawURLEncoding.Strict().DecodeString(macText)
	if err != nil || !hmac.Equal(mac, a.mac(signed)) {
		return "", errBadToken
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(signed[len(issuedPrefix):])
	if err != nil || len(payload) < 8 {
		return "", errBadToken
	}
	exp := int64(binary.BigEndian.Uint64(payload))
	if a.now().UnixNano() >= exp {
		return "", errExpired
	}
	return string(payload[8:]), nil
}

func (a *Authenticator) mac(signed string) []byte {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(signed))
	return m.Sum(nil)
}
