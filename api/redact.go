package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// redactedText replaces a secret in whatever the client returns.
const redactedText = "[REDACTED]"

// redact returns err as the caller may see it: every form of every secret
// the client sent (the bearer token, the client secret raw and escaped, the
// Basic credentials, the access tokens it fetched) replaced, in the
// message and, for an *Error, in every field. It runs once, where an error
// leaves the client, so no layer below has to think about it.
func (c *Client) redact(err error) error {
	secrets := c.secrets
	if c.tokens != nil {
		secrets = append(append([]string(nil), secrets...), c.tokens.known()...)
	}
	r := strings.NewReplacer(replacerPairs(secrets)...)
	var ae *Error
	if errors.As(err, &ae) && err == error(ae) {
		out := *ae
		out.Message = r.Replace(ae.Message)
		out.Body = []byte(r.Replace(string(ae.Body)))
		out.Details = redactDetails(r, ae.Details)
		out.Header = make(http.Header, len(ae.Header))
		for k, vs := range ae.Header {
			for _, v := range vs {
				out.Header.Add(k, r.Replace(v))
			}
		}
		return &out
	}
	if msg := err.Error(); r.Replace(msg) != msg {
		return &redactedError{msg: r.Replace(msg), err: err}
	}
	return err
}

// replacerPairs are the strings.NewReplacer arguments for secrets, longest
// first so that a secret's longer encoded form is replaced whole. Very
// short values are left alone: replacing them would garble every message.
func replacerPairs(secrets []string) []string {
	var pairs []string
	for _, s := range secrets {
		if len(s) >= 4 {
			pairs = append(pairs, s, redactedText)
		}
	}
	// strings.Replacer tries the pairs in argument order at each position.
	for i := 0; i < len(pairs); i += 2 {
		for j := i + 2; j < len(pairs); j += 2 {
			if len(pairs[j]) > len(pairs[i]) {
				pairs[i], pairs[j] = pairs[j], pairs[i]
			}
		}
	}
	return pairs
}

// redactDetails copies details with every string in them redacted.
func redactDetails(r *strings.Replacer, details []Any) []Any {
	if details == nil {
		return nil
	}
	out := make([]Any, len(details))
	for i, d := range details {
		out[i].Type = r.Replace(d.Type)
		if d.AdditionalProperties != nil {
			out[i].AdditionalProperties = redactValue(r, d.AdditionalProperties).(map[string]any)
		}
	}
	return out
}

// redactValue redacts the strings of a decoded JSON value.
func redactValue(r *strings.Replacer, v any) any {
	switch v := v.(type) {
	case string:
		return r.Replace(v)
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[r.Replace(k)] = redactValue(r, x)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = redactValue(r, x)
		}
		return l
	}
	return v
}

// redactedError hides a secret that an underlying error's message carried.
// It unwraps only to the errors a caller tests for (context ends, the body
// limit), not to the error that holds the secret.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Unwrap() []error {
	var out []error
	for _, target := range unwrapTargets {
		if errors.Is(e.err, target) {
			out = append(out, target)
		}
	}
	return out
}

// unwrapTargets are the errors a redactedError still matches with errors.Is.
var unwrapTargets = []error{context.Canceled, context.DeadlineExceeded, ErrResponseTooLarge}
