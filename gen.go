// Package integrations holds the contract of Torq's integrations API,
// openapi.yaml, embedded so that the generated bindings, the stub server,
// the client's response validation and importers all read the same bytes.
//
// The Go bindings generated from it live in package generated; the client
// people import is package api.
package integrations

import _ "embed"

//go:generate go tool -modfile=internal/tools/go.mod oapi-codegen -config generated/oapi-codegen.yaml openapi.yaml

// OpenAPISpec is openapi.yaml, the OpenAPI 3.0.3 contract of
// GET /v1alpha/integrations, exactly as it is in the repository.
//
//go:embed openapi.yaml
var OpenAPISpec []byte
