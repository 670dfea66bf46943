package api_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/torqapi/integrations/api"
)

// The recognisable secrets of these tests: none of them may appear in any
// error the client returns.
const (
	leakSecret = "s3cr3t+/=$SECRET"
	leakToken  = "TOKEN-must-not-leak-0123456789"
	leakAccess = "ACCESS-must-not-leak-9876543210"
	leakID     = "client-id"
)

// leakForms are the secrets in every form the client sends them: raw, the
// form-escaped secret (what r.BasicAuth() gives back), and the Basic
// credentials (base64 of the escaped ID and secret).
var leakForms = []string{leakSecret, leakToken, leakAccess, url.QueryEscape(leakSecret),
	base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(leakID) + ":" + url.QueryEscape(leakSecret)))}

// echo answers with everything the request carried, as a careless proxy's
// error page might.
func echo(status int, contentType string) answer {
	return func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		dump := fmt.Sprintf("auth=%s query=%s", r.Header.Get("Authorization"), r.URL.RawQuery)
		if contentType == "application/json" {
			_, _ = fmt.Fprintf(w, `{"code":16,"message":%q,"details":[{"@type":"x/y","v":%q}]}`, dump, dump)
			return
		}
		_, _ = io.WriteString(w, "<html><body>"+dump+"</body></html>")
	}
}

func TestNoSecretInErrors(t *testing.T) {
	t.Parallel()
	bearer := api.WithBearerToken(leakToken)
	creds := api.WithClientCredentials(leakID, leakSecret)
	accessToken := tokenOK(func(int) string { return leakAccess }, 3600)
	tests := []struct {
		name        string
		apiAnswer   answer
		tokenAnswer answer
		opts        []api.Option
	}{
		{"JSON Status echoing a static token", echo(401, "application/json"), nil, []api.Option{bearer}},
		{"HTML page echoing a static token", echo(502, "text/html"), nil, []api.Option{bearer}},
		{"JSON Status echoing an access token", echo(403, "application/json"), accessToken, []api.Option{creds}},
		{"HTML page echoing an access token", echo(500, "text/plain"), accessToken, []api.Option{creds}},
		{"redirect, static token", redirect, nil, []api.Option{bearer}},
		{"redirect, client credentials", redirect, accessToken, []api.Option{creds}},
		{"token endpoint echoing the Basic credentials", listOK, func(w http.ResponseWriter, r *http.Request, _ int) {
			id, secret, _ := r.BasicAuth()
			writeJSON(w, 401, fmt.Sprintf(`{"error":"invalid_client","error_description":"bad %s:%s %s"}`, id, secret, r.Header.Get("Authorization")))
		}, []api.Option{creds}},
		{"token endpoint answering 200 with an echo", listOK, func(w http.ResponseWriter, r *http.Request, _ int) {
			_ = r.ParseForm()
			id, secret, _ := r.BasicAuth()
			writeJSON(w, 200, fmt.Sprintf(`{"error":"invalid_client","error_description":"bad %s:%s %s %s"}`, id, secret, r.Header.Get("Authorization"), r.Form.Encode()))
		}, []api.Option{creds}},
		{"token endpoint echoing in a header and a detail", listOK, func(w http.ResponseWriter, r *http.Request, _ int) {
			id, secret, _ := r.BasicAuth()
			w.Header().Set("WWW-Authenticate", r.Header.Get("Authorization"))
			writeJSON(w, 401, fmt.Sprintf(`{"code":16,"message":"no","details":[{"@type":"x/y","seen":[%q,{"k":%q}]}]}`, secret, id+":"+secret))
		}, []api.Option{creds}},
		{"token endpoint returning HTML", listOK, func(w http.ResponseWriter, r *http.Request, _ int) {
			id, secret, _ := r.BasicAuth()
			w.WriteHeader(500)
			_, _ = io.WriteString(w, "<p>"+id+":"+secret+"</p>")
		}, []api.Option{creds}},
		{"contract violation", func(w http.ResponseWriter, r *http.Request, _ int) {
			writeJSON(w, 200, `{"integrations":[{"id":"`+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")+`"}]}`)
		}, accessToken, []api.Option{creds, strictCheck(t)}},
		{"undecodable success", func(w http.ResponseWriter, r *http.Request, _ int) {
			writeJSON(w, 200, `{"integrations":[{"id":"`+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")+`"}]}`)
		}, nil, []api.Option{bearer}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeTorq(t, tt.apiAnswer, tt.tokenAnswer)
			c := f.client(t, newFakeClock(), append(tt.opts, api.WithRetry(api.RetryPolicy{MaxAttempts: 2}))...)
			_, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{TypeID: "webhook"})
			if err == nil {
				t.Fatal("no error")
			}
			texts := []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%s", err)}
			var e *api.Error
			if errors.As(err, &e) {
				texts = append(texts, e.Message, string(e.Body), fmt.Sprint(e.Details), fmt.Sprint(e.Header))
			}
			for _, text := range texts {
				for _, secret := range leakForms {
					if strings.Contains(text, secret) {
						t.Errorf("secret %q appears in %q", secret, text)
					}
				}
			}
		})
	}
	t.Run("transport error", func(t *testing.T) {
		t.Parallel()
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return nil, errors.New("proxy refused " + r.Header.Get("Authorization"))
		})
		c, err := api.NewClient(bearer, api.WithHTTPClient(&http.Client{Transport: rt}), api.WithRetry(api.RetryPolicy{MaxAttempts: 1}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
		if err == nil || strings.Contains(fmt.Sprintf("%+v", err), leakToken) || !strings.Contains(err.Error(), "[REDACTED]") {
			t.Fatalf("error = %v, want the token redacted", err)
		}
	})
}
