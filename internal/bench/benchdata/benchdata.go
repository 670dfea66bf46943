// Package benchdata builds realistic, deterministic lists of integrations of
// any size for benchmarks and load tests: the same n always gives the same
// bytes, so runs on different days and machines compare like with like.
//
// Every list it returns is valid against openapi.yaml (uuid and date-time
// formats included) and to the fixture loader's checks, has unique ids,
// derives each name from its display name by the documented rule
// (fixtures.NameFromDisplayName), and keeps sharing data consistent: not_shared has
// no workspace ids, incoming has the one source workspace, outgoing has one
// to three destination workspaces.
package benchdata

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/fixtures"
)

// kind is one integration type as a workspace would have it: its type_id, the
// vendor shown in display names, the purposes people give it, and whether it
// triggers workflows (and so has a webhook URL).
type kind struct {
	typeID   string
	vendor   string
	purposes []string
	trigger  bool
}

// kinds are the integration types the lists draw from, in a fixed order.
var kinds = []kind{
	{"webhook", "Webhook", []string{"SIEM Alerts", "Phishing Reports", "CI Pipeline Events", "Vulnerability Scanner"}, true},
	{"slack", "Slack", []string{"Security Alerts", "SOC Channel", "IT Helpdesk", "Incident War Room"}, true},
	{"jira", "Jira", []string{"SOC Tickets", "Vulnerability Management", "IT Service Desk"}, false},
	{"okta", "Okta", []string{"Production", "Staging", "Contractors"}, false},
	{"crowdstrike", "CrowdStrike Falcon", []string{"Detections", "Endpoint Containment"}, true},
	{"aws", "AWS", []string{"Security Hub", "Production Account", "GuardDuty Findings"}, true},
	{"pagerduty", "PagerDuty", []string{"On-Call Escalations", "Major Incidents"}, false},
	{"microsoft_teams", "Microsoft Teams", []string{"SecOps", "Executive Briefings"}, true},
	{"github", "GitHub", []string{"Secret Scanning", "Dependabot Alerts"}, true},
	{"google_workspace", "Google Workspace", []string{"Admin Audit", "Drive Sharing"}, false},
	{"servicenow", "ServiceNow", []string{"Change Requests", "Incidents"}, false},
	{"email", "Email", []string{"Phishing Mailbox", "Abuse Inbox"}, true},
}

// moreVendors name the further integration types of IntegrationsOfTypes,
// beyond kinds: a large workspace has dozens (the scale benchmarks use 50).
var moreVendors = []string{
	"Splunk", "SentinelOne", "Microsoft Defender", "Azure", "GCP", "Zscaler",
	"Palo Alto Networks", "Cloudflare", "Proofpoint", "Mimecast", "Tenable",
	"Qualys", "Rapid7", "Wiz", "Snyk", "Datadog", "Elastic", "Sumo Logic",
	"Opsgenie", "Zendesk", "Freshservice", "Confluence", "GitLab", "Bitbucket",
	"Duo", "OneLogin", "CyberArk", "HashiCorp Vault", "1Password", "Abnormal",
	"VirusTotal", "URLScan", "Recorded Future", "Have I Been Pwned", "Shodan",
	"Twilio", "Zoom", "Salesforce",
}

// kindsOf returns types integration kinds: kinds first, then moreVendors,
// then numbered copies when even those run out.
func kindsOf(types int) []kind {
	types = max(1, types)
	if types <= len(kinds) {
		return kinds[:types]
	}
	out := append([]kind{}, kinds...)
	for i := len(kinds); i < types; i++ {
		j := i - len(kinds)
		vendor := moreVendors[j%len(moreVendors)]
		if n := j / len(moreVendors); n > 0 {
			vendor = fmt.Sprintf("%s %d", vendor, n+1)
		}
		out = append(out, kind{
			typeID:   fixtures.NameFromDisplayName(vendor),
			vendor:   vendor,
			purposes: []string{"Alerts", "Enrichment", "Response Actions"},
			trigger:  i%2 == 0,
		})
	}
	return out
}

// creators are the people who create integrations in the generated workspace.
var creators = []string{
	"secops@example.com", "alice.cohen@example.com", "bob.levi@example.com",
	"it-automation@example.com", "dana.mizrahi@example.com", "soc-lead@example.com",
}

// epoch and horizon bound the generated timestamps (fixed, not time.Now, so
// lists do not change from day to day).
var (
	epoch   = time.Date(2022, 1, 3, 9, 0, 0, 0, time.UTC)
	horizon = time.Date(2026, 10, 30, 18, 0, 0, 0, time.UTC)
)

// seed is the fixed seed of the generator.
const seed = 0x7072_7121

// Integrations returns n integrations, the same for the same n, and each
// list a prefix of any longer one. n < 0 is treated as 0.
func Integrations(n int) []generated.Integration {
	return IntegrationsOfTypes(n, len(kinds))
}

// IntegrationsOfTypes is Integrations drawing from the given number of
// integration types (type_ids) instead of the default 12, so that a large
// list filtered by type_id answers a realistic share of it. With 12 types
// it is Integrations.
func IntegrationsOfTypes(n, types int) []generated.Integration {
	kinds := kindsOf(types)
	if n < 0 {
		n = 0
	}
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	workspaces := make([]string, 6)
	for i := range workspaces {
		workspaces[i] = newUUID(rng).String()
	}
	items := make([]generated.Integration, 0, n)
	span := horizon.Sub(epoch)
	for i := range n {
		k := kinds[i%len(kinds)]
		id := newUUID(rng)
		purpose := k.purposes[rng.IntN(len(k.purposes))]
		display := fmt.Sprintf("%s - %s", k.vendor, purpose)
		if i >= len(kinds) {
			display = fmt.Sprintf("%s %d", display, i/len(kinds)+1)
		}
		created := epoch.Add(time.Duration(rng.Int64N(int64(span) * 3 / 4)))
		if rng.IntN(3) == 0 {
			// Torq sends nanoseconds when it has them.
			created = created.Add(time.Duration(rng.IntN(int(time.Second))))
		} else {
			created = created.Truncate(time.Second)
		}
		it := generated.Integration{
			ID:          id,
			Name:        fixtures.NameFromDisplayName(display),
			DisplayName: display,
			TypeID:      k.typeID,
			CreatedAt:   created,
			CreatedBy:   creators[rng.IntN(len(creators))],
			SharingData: generated.SharingData{Direction: generated.SharingNotShared},
		}
		if rng.IntN(5) != 0 { // one in five was never used
			it.LastUsedAt = created.Add(time.Duration(rng.Int64N(int64(horizon.Sub(created))))).Truncate(time.Second)
		}
		if k.trigger {
			it.Details.Trigger.WebhookURL = "https://hooks.torq.io/v1/webhooks/" + id.String()
		}
		switch r := rng.IntN(20); {
		case r < 3:
			it.SharingData = generated.SharingData{
				Direction:    generated.SharingIncoming,
				WorkspaceIDs: []string{workspaces[rng.IntN(len(workspaces))]},
			}
		case r < 6:
			first := rng.IntN(len(workspaces))
			ids := []string{}
			for j := range 1 + rng.IntN(3) {
				ids = append(ids, workspaces[(first+j)%len(workspaces)])
			}
			it.SharingData = generated.SharingData{Direction: generated.SharingOutgoing, WorkspaceIDs: ids}
		}
		items = append(items, it)
	}
	return items
}

// WriteFixtures writes items as a fixture file, {"integrations": [...]}, the
// format the stub's --fixtures flag reads.
func WriteFixtures(w io.Writer, items []generated.Integration) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(generated.IntegrationList{Integrations: items})
}

// newUUID draws a version 4 UUID from rng.
func newUUID(rng *rand.Rand) uuid.UUID {
	var u uuid.UUID
	for i := 0; i < len(u); i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			u[i+j] = byte(v >> (8 * j))
		}
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	return u
}
