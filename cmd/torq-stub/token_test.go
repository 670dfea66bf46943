package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/torqapi/integrations/internal/auth"
)

// TestTokenEndpointHeaders asks the token endpoint of the running program
// with every method: each answer, a wrong method's 405 included, is RFC 6749
// JSON with the headers Torq's token endpoint sends (no-store, no-cache,
// JSON in UTF-8), and a wrong method says Allow: POST.
func TestTokenEndpointHeaders(t *testing.T) {
	var stdout, stderr syncBuffer
	base := start(t, []string{"--addr", "127.0.0.1:0", "--quiet"}, &stdout, &stderr)
	tests := []struct {
		name, method, body string
		basic              bool
		status             int
		wantError          string // "" for a token
	}{
		{"token", http.MethodPost, "grant_type=client_credentials", true, 200, ""},
		{"bad client", http.MethodPost, "grant_type=client_credentials", false, 401, "invalid_client"},
		{"no grant", http.MethodPost, "", true, 400, "invalid_request"},
		{"GET", http.MethodGet, "", true, 405, "invalid_request"},
		{"PUT", http.MethodPut, "grant_type=client_credentials", true, 405, "invalid_request"},
		{"DELETE", http.MethodDelete, "", false, 405, "invalid_request"},
		{"OPTIONS", http.MethodOptions, "", false, 405, "invalid_request"},
		{"HEAD", http.MethodHead, "", false, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, base+"/v1/auth/token", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.basic {
				req.SetBasicAuth(auth.DemoClientID, auth.DemoClientSecret)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			for k, want := range map[string]string{
				"Cache-Control": "no-store",
				"Pragma":        "no-cache",
				"Content-Type":  "application/json;charset=UTF-8",
			} {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if got, want := resp.Header.Get("Allow"), map[bool]string{true: "POST"}[tt.status == 405]; got != want {
				t.Errorf("Allow = %q, want %q", got, want)
			}
			if tt.method == http.MethodHead {
				return
			}
			var got struct {
				AccessToken      string `json:"access_token"`
				TokenType        string `json:"token_type"`
				ExpiresIn        int64  `json:"expires_in"`
				Error            string `json:"error"`
				ErrorDescription string `json:"error_description"`
			}
			dec := json.NewDecoder(strings.NewReader(string(body)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("body is not RFC 6749 JSON: %v: %s", err, body)
			}
			if tt.wantError == "" {
				if got.AccessToken == "" || got.TokenType != "Bearer" || got.ExpiresIn != 3600 {
					t.Errorf("token answer %s", body)
				}
			} else if got.Error != tt.wantError || got.ErrorDescription == "" {
				t.Errorf("error answer %s, want error %q with a description", body, tt.wantError)
			}
		})
	}
}
