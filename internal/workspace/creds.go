package workspace

import (
	"github.com/torqapi/integrations/internal/auth"

	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"

	"github.com/torqapi/integrations/internal/fixtures"
)

// maxClientLen bounds a client id and a client secret.
const maxClientLen = 256

type digest = [sha256.Size]byte

// creds are a workspace's credentials, kept only as digests: nothing the
// store holds (or could log) is a token or a secret.
type creds struct {
	tokens  []digest
	denied  []digest
	clients []client
}

type client struct {
	id     string
	secret digest
}

// tokenEntry says which workspace a token acts for.
type tokenEntry struct {
	digest    digest
	workspace string
	denied    bool
	field     string // where it was given, for conflict messages
}

type clientEntry struct {
	secret    digest
	workspace string
	field     string
}

// newCreds checks and digests a spec's credentials. Problems name the
// field, never the value.
func newCreds(spec *Spec) (creds, []fixtures.Problem) {
	var c creds
	var problems []fixtures.Problem
	bad := func(field, reason string) {
		problems = append(problems, fixtures.Problem{Index: -1, Field: field, Reason: reason})
	}
	for i, t := range spec.Tokens {
		if !auth.IsToken68(t) {
			bad(fmt.Sprintf("tokens[%d]", i), tokenRule)
			continue
		}
		c.tokens = append(c.tokens, sha256.Sum256([]byte(t)))
	}
	for i, t := range spec.DeniedTokens {
		if !auth.IsToken68(t) {
			bad(fmt.Sprintf("denied_tokens[%d]", i), tokenRule)
			continue
		}
		c.denied = append(c.denied, sha256.Sum256([]byte(t)))
	}
	for i, cl := range spec.Clients {
		f := fmt.Sprintf("clients[%d]", i)
		if !printable(cl.ID, '!') {
			bad(f+".id", fmt.Sprintf("must be 1-%d printable ASCII characters without spaces", maxClientLen))
			continue
		}
		if !printable(cl.Secret, ' ') {
			bad(f+".secret", fmt.Sprintf("must be 1-%d printable ASCII characters", maxClientLen))
			continue
		}
		for j := range i {
			if spec.Clients[j].ID == cl.ID {
				bad(f+".id", fmt.Sprintf("duplicate: clients[%d] has the same id", j))
			}
		}
		c.clients = append(c.clients, client{id: cl.ID, secret: sha256.Sum256([]byte(cl.Secret))})
	}
	return c, problems
}

const tokenRule = "is not a valid bearer token (want 1-4096 characters of A-Z a-z 0-9 - . _ ~ + / and trailing =)"

// printable reports whether s is 1-maxClientLen ASCII characters from low
// to '~' (RFC 6749 appendix A: VSCHAR, and no space in a client id).
func printable(s string, low byte) bool {
	if s == "" || len(s) > maxClientLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < low || s[i] > '~' {
			return false
		}
	}
	return true
}

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// sameDigest compares in constant time.
func sameDigest(a, b digest) bool { return subtle.ConstantTimeCompare(a[:], b[:]) == 1 }
