package control

import (
	"context"
	"encoding/json"

	"github.com/torqapi/integrations/internal/journal"
)

// Backend is what the control API steers: the stub's workspaces, journal
// and scripts. The handler has validated every argument against the
// contract before calling it (ids match the contract's pattern, limit is
// in range, scripts come from ParseScript). Integrations are passed as the
// raw JSON values the client sent, one per integration; the Backend checks
// them against Torq's contract (as a fixture file is checked) and reports a
// bad one with Invalid("integrations[2].id", ...).
//
// Methods return an *Error (NotFound, AlreadyExists, Invalid,
// InvalidFields) for the client's mistakes; any other error is answered 500
// INTERNAL, logged and not sent.
type Backend interface {
	// CreateWorkspace creates workspace id (a new id when id is "") with
	// the given integrations (none when nil) and new credentials, and
	// returns them. A taken id is AlreadyExists("workspace", id).
	CreateWorkspace(ctx context.Context, id string, integrations []json.RawMessage) (Credentials, error)
	// Workspaces lists every workspace, in order of id.
	Workspaces(ctx context.Context) []WorkspaceSummary
	// Integrations returns the integrations of workspace id as stored, or
	// NotFound("workspace", id).
	Integrations(ctx context.Context, id string) ([]json.RawMessage, error)
	// ReplaceIntegrations replaces the integrations of workspace id
	// atomically and returns how many it now holds; NotFound("workspace",
	// id) when there is no such workspace.
	ReplaceIntegrations(ctx context.Context, id string, integrations []json.RawMessage) (int, error)
	// DeleteWorkspace deletes workspace id, its scripts and its
	// credentials (which are answered 401 from then on), or returns
	// NotFound("workspace", id).
	DeleteWorkspace(ctx context.Context, id string) error
	// Requests returns the journal's entries of workspace ("" for all),
	// oldest first; with limit > 0 only the newest limit of them
	// (journal.Journal.List).
	Requests(ctx context.Context, workspace string, limit int) []journal.Entry
	// ClearRequests removes the journal's entries of workspace, or all of
	// them when workspace is "".
	ClearRequests(ctx context.Context, workspace string)
	// Reset puts the stub back in its state at start: the workspaces from
	// flags and fixtures, an empty journal, no scripts.
	Reset(ctx context.Context) error
	// CreateScript stores s and returns its id (ValidID must accept it);
	// NotFound("workspace", s.Workspace) when there is no such workspace.
	CreateScript(ctx context.Context, s Script) (string, error)
	// Scripts lists the scripts in the order they were created, each with
	// the steps it has left.
	Scripts(ctx context.Context) []ScriptState
	// DeleteScript removes script id, or returns NotFound("script", id).
	DeleteScript(ctx context.Context, id string) error
	// DeleteScripts removes every script.
	DeleteScripts(ctx context.Context)
}

// Credentials are a new workspace's id and credentials.
type Credentials struct {
	// ID is the workspace's id (the generated one when none was given).
	ID string
	// Token is a static bearer token of the workspace.
	Token string
	// ClientID and ClientSecret are its OAuth2 client for the token
	// endpoint.
	ClientID, ClientSecret string
}

// WorkspaceSummary is one line of the workspace list.
type WorkspaceSummary struct {
	// ID is the workspace's id.
	ID string
	// Integrations is how many integrations it holds.
	Integrations int
}

// ScriptState is a stored script and what is left of it.
type ScriptState struct {
	// ID is the script's id.
	ID string
	// Script is the script, its Steps being the steps it has left (for a
	// repeating script, the rest of the current round).
	Script
}
