// Package contract loads the embedded openapi.yaml into kin-openapi once per
// caller, ready for validation: every package that holds data against the
// contract (fixtures, request and response validation, the client's optional
// response validation) starts here, so they all judge by the same rules.
package contract

import (
	"context"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"

	integrations "github.com/torqapi/integrations"
)

// uuidPattern accepts any RFC 9562 UUID (versions 1-8, nil and max), written
// in the 8-4-4-4-12 hex form that Torq sends.
const uuidPattern = openapi3.FormatOfStringForUUIDOfRFC9562

// Load parses and validates the embedded contract and returns a document
// whose string formats include `uuid` (kin-openapi checks `date-time` but not
// `uuid` by default). The format validator is document-scoped, not global.
//
// The document's servers are left as they are; routers that serve it on
// another host (the stub) replace them.
func Load() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(integrations.OpenAPISpec)
	if err != nil {
		return nil, fmt.Errorf("contract: load openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("contract: openapi.yaml is invalid: %w", err)
	}
	doc.SetStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(uuidPattern))
	return doc, nil
}

// SchemaOptions are the options to validate a value against one of doc's
// schemas: formats checked (uuid included) and the document's validators.
func SchemaOptions(doc *openapi3.T) []openapi3.SchemaValidationOption {
	return append([]openapi3.SchemaValidationOption{openapi3.EnableFormatValidation()}, doc.GetSchemaValidationOptions()...)
}

// Schema returns the component schema called name (for example
// "Integration"), or an error naming it when the contract has none.
func Schema(doc *openapi3.T, name string) (*openapi3.Schema, error) {
	ref := doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		return nil, fmt.Errorf("contract: no schema %q in openapi.yaml", name)
	}
	return ref.Value, nil
}
