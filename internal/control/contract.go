package control

import _ "embed"

//go:generate go tool -modfile=../../internal/tools/go.mod oapi-codegen -config ../../generated/control/oapi-codegen.yaml control.yaml

// Contract is control.yaml, the OpenAPI 3.0.3 contract of the control API,
// exactly as it is in the repository: the handler routes and validates by
// it and serves it at /__stub/openapi.yaml, so clients and the stub read
// the same bytes.
//
//go:embed control.yaml
var Contract []byte
