package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/torqapi/integrations/api"
	"github.com/torqapi/integrations/api/apitest"
	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/golden"
)

var workspace = []api.Integration{
	{ID: uuid.MustParse("d7639fb8-8037-4ce2-80e9-c50bc3345c5a"), Name: "my_integration", DisplayName: "My Integration",
		TypeID: "webhook", CreatedAt: time.Date(2022, 3, 9, 8, 40, 18, 0, time.UTC), LastUsedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		CreatedBy:   "user@torq.io",
		Details:     api.IntegrationDetails{Trigger: api.TriggerDetails{WebhookURL: "https://hooks.torq.io/v1/webhooks/d7639fb8-8037-4ce2-80e9-c50bc3345c5a"}},
		SharingData: api.SharingData{Direction: api.SharingNotShared}},
	{ID: uuid.MustParse("5b0c3f2e-9a41-4d7e-8c6a-1f2e3d4c5b6a"), Name: "slack_security_alerts", DisplayName: "Slack - Security Alerts",
		TypeID: "slack", CreatedAt: time.Date(2023, 11, 20, 14, 5, 31, 490771179, time.UTC),
		SharingData: api.SharingData{Direction: api.SharingOutgoing, WorkspaceIDs: []string{"0b7c2c55-5d2e-4a56-9f1e-3c8a7b6d5e4f"}}},
}

// cli runs the command with env and returns its exit code and output.
func cli(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestList(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, apitest.WithIntegrations(workspace...), apitest.WithClientSecret("s+/=$ecret"))
	creds := map[string]string{"TORQ_CLIENT_ID": srv.ClientID, "TORQ_CLIENT_SECRET": srv.ClientSecret,
		"TORQ_BASE_URL": srv.URL, "TORQ_TOKEN_URL": srv.TokenURL}
	token := map[string]string{"TORQ_TOKEN": srv.Token, "TORQ_BASE_URL": srv.URL, "TORQ_REGION": "EU"}

	t.Run("table", func(t *testing.T) {
		t.Parallel()
		code, out, errOut := cli(t, creds, "integrations", "list")
		if code != 0 || errOut != "" {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		golden.Check(t, "testdata/list.golden", []byte(out))
	})
	t.Run("json with a static token", func(t *testing.T) {
		t.Parallel()
		code, out, errOut := cli(t, token, "integrations", "list", "-o", "json")
		if code != 0 || errOut != "" {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		var got generated.IntegrationList
		if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Integrations) != 2 || got.Integrations[1].SharingData.WorkspaceIDs[0] != "0b7c2c55-5d2e-4a56-9f1e-3c8a7b6d5e4f" {
			t.Fatalf("output %s: %v", out, err)
		}
		golden.Check(t, "testdata/list.json", []byte(out))
	})
	t.Run("filter", func(t *testing.T) {
		t.Parallel()
		code, out, _ := cli(t, creds, "integrations", "list", "--type-id", "slack")
		if code != 0 || strings.Contains(out, "my_integration") || !strings.Contains(out, "slack_security_alerts") {
			t.Fatalf("exit %d, output:\n%s", code, out)
		}
		code, out, _ = cli(t, creds, "integrations", "list", "--type-id=none", "-o=json")
		if code != 0 || strings.TrimSpace(out) != `{
  "integrations": []
}` {
			t.Fatalf("exit %d, output:\n%s", code, out)
		}
	})
}

func TestErrors(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, apitest.WithIntegrations(workspace...))
	const secret = "wrong-s3cret+/=$"
	const badToken = "expired-t0ken-must-not-leak"
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		wantCode  int
		wantErr   string
		wantOut   string
		forbidden string
	}{
		{"no command", nil, nil, 2, "torq: no command", "", ""},
		{"unknown command", nil, []string{"workflows"}, 2, `unknown command "workflows"`, "", ""},
		{"unknown subcommand", nil, []string{"integrations", "delete"}, 2, `unknown subcommand "delete"`, "", ""},
		{"missing subcommand", nil, []string{"integrations"}, 2, "missing subcommand", "", ""},
		{"bad output", map[string]string{"TORQ_TOKEN": "x"}, []string{"integrations", "list", "-o", "yaml"}, 2, "-o must be table or json", "", ""},
		{"bad flag", nil, []string{"integrations", "list", "--typeid", "x"}, 2, "flag provided but not defined: -typeid", "", ""},
		{"extra argument", nil, []string{"integrations", "list", "slack"}, 2, `unexpected argument "slack"`, "", ""},
		{"no credentials", nil, []string{"integrations", "list"}, 2, "no credentials: set TORQ_CLIENT_ID", "", ""},
		{"half credentials", map[string]string{"TORQ_CLIENT_ID": "id"}, []string{"integrations", "list"}, 2, "go together", "", ""},
		{"both credentials", map[string]string{"TORQ_CLIENT_ID": "id", "TORQ_CLIENT_SECRET": secret, "TORQ_TOKEN": badToken},
			[]string{"integrations", "list"}, 2, "not both", "", secret},
		{"bad region", map[string]string{"TORQ_TOKEN": badToken, "TORQ_REGION": "mars"}, []string{"integrations", "list"}, 2, `unknown region "mars"`, "", badToken},
		{"bad base URL", map[string]string{"TORQ_TOKEN": badToken, "TORQ_BASE_URL": "127.0.0.1:8080/public"}, []string{"integrations", "list"}, 2, "WithBaseURL", "", badToken},
		{"invalid token", map[string]string{"TORQ_TOKEN": badToken, "TORQ_BASE_URL": srv.URL}, []string{"integrations", "list"}, 1,
			"torq: 401 UNAUTHENTICATED: Invalid bearer token.", "", badToken},
		{"wrong secret", map[string]string{"TORQ_CLIENT_ID": srv.ClientID, "TORQ_CLIENT_SECRET": secret, "TORQ_BASE_URL": srv.URL, "TORQ_TOKEN_URL": srv.TokenURL},
			[]string{"integrations", "list"}, 1, "torq: 401 UNAUTHENTICATED: token endpoint: ", "", secret},
		{"unreachable", map[string]string{"TORQ_TOKEN": badToken, "TORQ_BASE_URL": "http://127.0.0.1:1/public"}, []string{"integrations", "list"}, 1,
			"connection refused", "", badToken},
		{"help", nil, []string{"--help"}, 0, "", "Usage:", ""},
		{"list help", nil, []string{"integrations", "list", "-h"}, 0, "", "--type-id", ""},
		{"version", nil, []string{"version"}, 0, "", "torq ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := cli(t, tt.env, tt.args...)
			if code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) || !strings.Contains(out, tt.wantOut) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stderr containing %q, stdout containing %q",
					code, out, errOut, tt.wantCode, tt.wantErr, tt.wantOut)
			}
			if tt.forbidden != "" && (strings.Contains(errOut, tt.forbidden) || strings.Contains(out, tt.forbidden)) {
				t.Errorf("a secret appears in the output: %q", errOut)
			}
		})
	}
}
