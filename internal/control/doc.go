// Package control is the HTTP layer of the stub's control API: the routes
// under /__stub/ with which test suites, in any language, create workspaces,
// replace their data, read the journal, script the next answers and reset
// the stub between tests (what WireMock's /__admin is to WireMock).
//
// The API has its own hand-written contract, control.yaml (OpenAPI 3.0.3),
// embedded as Contract and served at /__stub/openapi.yaml; go generate
// turns it into package generated/control (models, a client, a strict
// net/http server). NewHandler routes every request with kin-openapi's
// router over that contract and validates it before the generated server
// calls the Backend, so the Backend only ever sees arguments the contract
// allows: an unknown path is 404 NOT_FOUND, a wrong method 405 with Allow,
// a bad parameter or body 400 INVALID_ARGUMENT whose google.rpc.BadRequest
// names the field ("steps[1].delay", "limit"). Every error goes out through
// rpcstatus.Write.
//
// The Backend (the stub's workspaces, journal and scripts) reports the
// client's mistakes with NotFound, AlreadyExists, Invalid and InvalidFields;
// ParseScript is the one check of a script's steps and durations, for the
// handler and for a Backend that builds scripts from elsewhere.
package control
