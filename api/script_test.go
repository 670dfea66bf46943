package api_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/torqapi/integrations/api"
	"github.com/torqapi/integrations/api/apitest"
)

// These tests drive the client with the stub's scripted answers: the exact
// sequence of failures a test names, every run, through the real stub.

// scripted returns a server, a workspace with one integration and the
// workspace's client, the journal checked clean at the end.
func scripted(t *testing.T, opts ...api.Option) (*apitest.Server, *apitest.Workspace, *api.Client) {
	t.Helper()
	srv := apitest.NewServer(t, apitest.WithIntegrations())
	srv.RequireClean(t)
	ws := srv.Workspace(t, apitest.WorkspaceIntegrations(exampleWorkspace[0]))
	return srv, ws, ws.Client(opts...)
}

// apiEntries returns the journal's API requests of a workspace.
func apiEntries(srv *apitest.Server, ws string) []apitest.Entry {
	var out []apitest.Entry
	for _, e := range srv.Journal(ws) {
		if e.Path == "/public/v1alpha/integrations" {
			out = append(out, e)
		}
	}
	return out
}

func TestScriptRetryAfterIsWaited(t *testing.T) {
	t.Parallel()
	srv, ws, c := scripted(t)
	sc := ws.Script(t, apitest.RetryAfter(429, time.Second), apitest.Pass())
	start := time.Now()
	list, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("ListIntegrations: %v", err)
	}
	if len(list) != 1 {
		t.Errorf("got %d integrations, want 1", len(list))
	}
	if elapsed < time.Second {
		t.Errorf("the retry came after %v, before the 1s Retry-After", elapsed)
	}
	got := apiEntries(srv, ws.ID)
	if len(got) != 2 || got[0].Status != 429 || got[1].Status != 200 {
		t.Fatalf("journal: %+v, want a 429 then a 200", got)
	}
	if got[0].Script != sc.ID || got[0].Step != 0 || got[1].Step != 1 {
		t.Errorf("journal steps: %+v, want steps 0 and 1 of %s", got, sc.ID)
	}
	if n := sc.Left(); n != 0 {
		t.Errorf("script has %d steps left, want 0", n)
	}
}

func TestScriptRedirectRefreshesTokenOnce(t *testing.T) {
	t.Parallel()
	srv, ws, c := scripted(t)
	ws.Script(t, apitest.Redirect(), apitest.Pass())
	if _, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{}); err != nil {
		t.Fatalf("ListIntegrations: %v", err)
	}
	if n := tokenRequests(srv); n != 2 {
		t.Errorf("%d token requests, want 2 (the first token, one refresh after the 302)", n)
	}
	got := apiEntries(srv, ws.ID)
	if len(got) != 2 || got[0].Status != 302 || got[1].Status != 200 {
		t.Errorf("journal: %+v, want a 302 then a 200", got)
	}
}

func TestScriptEdgeHTMLIsShortUnavailable(t *testing.T) {
	t.Parallel()
	srv, ws, c := scripted(t)
	ws.Script(t, apitest.EdgeHTML(), apitest.Repeat()) // every attempt
	_, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
	var ae *api.Error
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v (%T), want an *api.Error", err, err)
	}
	if ae.HTTPStatus != 502 || ae.Code != api.CodeUnavailable {
		t.Errorf("got HTTP %d %v, want 502 UNAVAILABLE", ae.HTTPStatus, ae.Code)
	}
	if len(ae.Message) > 200 || strings.Contains(ae.Message, "<") {
		t.Errorf("message %q: want a short text, not the HTML page", ae.Message)
	}
	if n := len(apiEntries(srv, ws.ID)); n != api.DefaultMaxAttempts {
		t.Errorf("%d attempts, want %d (502 is retried)", n, api.DefaultMaxAttempts)
	}
}

func TestScriptFaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault apitest.FaultKind
		// ok says whether the call succeeds after one retry: the client
		// retries transport errors, a reset and a body cut short alike.
		ok bool
	}{
		{"reset", apitest.Reset, true},
		{"truncate", apitest.Truncate, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, ws, c := scripted(t)
			ws.Script(t, apitest.Fault(tc.fault), apitest.Pass())
			list, err := c.ListIntegrations(context.Background(), api.ListIntegrationsParams{})
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want success %v", err, tc.ok)
			}
			if tc.ok && len(list) != 1 {
				t.Errorf("got %d integrations, want 1", len(list))
			}
			// Counted as received, not from the journal: the stub journals a
			// faulted request once its handler has returned, which may be
			// after the client has seen the fault and retried.
			if n := apiRequests(srv); n != 2 {
				t.Errorf("%d attempts, want 2", n)
			}
		})
	}
}
