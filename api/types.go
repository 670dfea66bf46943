package api

import (
	"time"

	"github.com/google/uuid"

	"github.com/torqapi/integrations/generated"
)

// These types are the client's own, not aliases of generated/: their
// documentation is what a user reads, and an enum here is open (a value
// Torq adds later decodes and reports itself as unknown instead of failing
// the call). TestTypesMatchContract keeps their JSON identical to the
// generated models'.

// Integration is an integration of the workspace, as the API returns it.
// A field the server leaves out is its zero value.
type Integration struct {
	// ID is the integration's unique identifier.
	ID uuid.UUID `json:"id,omitempty,omitzero"`
	// Name is derived from DisplayName: spaces and special characters
	// become underscores, letters are lower-cased ("my_integration").
	Name string `json:"name,omitempty,omitzero"`
	// DisplayName is the name shown in Torq's UI ("My Integration").
	DisplayName string `json:"display_name,omitempty,omitzero"`
	// TypeID is the integration type, such as "webhook" or "slack"; it is
	// what ListIntegrationsParams.TypeID filters on.
	TypeID string `json:"type_id,omitempty,omitzero"`
	// CreatedAt is when the integration was created.
	CreatedAt time.Time `json:"created_at,omitempty,omitzero"`
	// CreatedBy is the e-mail address of the user who created it (for one
	// created automatically, the owner of the API key Torq used).
	CreatedBy string `json:"created_by,omitempty,omitzero"`
	// LastUsedAt is when the integration was last used.
	LastUsedAt time.Time `json:"last_used_at,omitempty,omitzero"`
	// Details holds the type-specific details.
	Details IntegrationDetails `json:"details,omitempty,omitzero"`
	// SharingData says whether and with which workspaces it is shared.
	SharingData SharingData `json:"sharing_data,omitempty,omitzero"`
}

// IntegrationDetails holds the type-specific details of an Integration.
type IntegrationDetails struct {
	// Trigger is set for integrations that trigger workflows.
	Trigger TriggerDetails `json:"trigger,omitempty,omitzero"`
}

// TriggerDetails holds the details of an integration that triggers
// workflows.
type TriggerDetails struct {
	// WebhookURL is the URL that triggers the workflows of a webhook
	// integration.
	WebhookURL string `json:"webhook_url,omitempty,omitzero"`
}

// SharingData says whether and with which workspaces an Integration is
// shared.
type SharingData struct {
	// Direction is the direction of the sharing; empty means not shared
	// (the API's default). Check Direction.Valid() before relying on it:
	// an unknown value is kept as sent.
	Direction SharingDirection `json:"direction,omitempty,omitzero"`
	// WorkspaceIDs holds, for an incoming share, the source workspace and,
	// for an outgoing share, the destination workspaces.
	WorkspaceIDs []string `json:"workspace_ids,omitempty,omitzero"`
}

// SharingDirection is the direction in which an Integration is shared. It
// is open: a value outside the three below (one Torq adds later) decodes
// as sent and Valid reports false.
type SharingDirection string

// The values of SharingDirection the contract documents.
const (
	// SharingNotShared: the integration is not shared.
	SharingNotShared SharingDirection = SharingDirection(generated.SharingNotShared)
	// SharingIncoming: the integration is shared with this workspace.
	SharingIncoming SharingDirection = SharingDirection(generated.SharingIncoming)
	// SharingOutgoing: the integration is shared from this workspace.
	SharingOutgoing SharingDirection = SharingDirection(generated.SharingOutgoing)
)

// Valid reports whether d is one of the documented directions. The empty
// value, which the API sends for an integration that is not shared, is
// valid.
func (d SharingDirection) Valid() bool {
	switch d {
	case "", SharingNotShared, SharingIncoming, SharingOutgoing:
		return true
	}
	return false
}

// Any is a google.protobuf.Any entry of an error's details: its type URL in
// Type and the message's fields in AdditionalProperties.
type Any = generated.Any

// integrationList is the body of a successful ListIntegrations answer.
type integrationList struct {
	Integrations []Integration `json:"integrations"`
}
