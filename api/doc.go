// Package api is a Go client for Torq's integrations API,
// GET /v1alpha/integrations, built on the bindings generated from the
// project's contract (openapi.yaml).
//
// It does what a production integration needs around the generated code:
//
//   - Authentication with the Client ID and Client Secret of a Torq API key
//     (OAuth2 client credentials): the token is cached, renewed shortly
//     before it expires, and renewed once more when the API answers 401, or
//     302 (Torq's answer to an expired token; redirects are never
//     followed). A static bearer token works too.
//   - Retries of 429, 502, 503, 504 and transport errors, with exponential
//     backoff and full jitter, honouring Retry-After and
//     google.rpc.RetryInfo, never waiting past the context's deadline.
//   - Typed errors: every answer other than 2xx is an *Error carrying the
//     HTTP status, the gRPC Code, the message and the decoded details of
//     the google.rpc.Status body. Tokens and secrets never appear in an
//     error.
//   - A client-side rate limit (WithRateLimit; Torq allows 50 requests per
//     second).
//   - Default timeouts, so that no call hangs even with
//     context.Background(): 10s to connect, 30s for the response headers,
//     60s for a whole attempt (WithTimeouts changes them).
//   - Open enums: a SharingDirection Torq adds later decodes, and Valid
//     reports it unknown.
//
// Bodies are read through size limits (MaxResponseBodyBytes,
// MaxErrorBodyBytes).
//
// Every call runs one loop: rate limiter, token, the generated request, the
// base transport, one checkResponse, the retry decision. Errors are
// redacted once, where they leave the client, in every form a secret was
// sent.
//
// Checking answers against the contract is opt-in and lives in package
// apicheck, so that importing api does not link a schema validator:
// apicheck.New() fails a call on a violation (strict), apicheck.New(
// apicheck.Report(f)) reports it and lets the call return its data. Both
// plug into WithResponseCheck.
//
// Quick start:
//
//	c, err := api.NewClient(
//		api.WithRegion(api.RegionEU),                      // US by default
//		api.WithClientCredentials(clientID, clientSecret), // or api.WithBearerToken(tok)
//	)
//	if err != nil { ... }
//	list, err := c.ListIntegrations(ctx, api.ListIntegrationsParams{TypeID: "webhook"})
//	var e *api.Error
//	if errors.As(err, &e) && e.Code == api.CodePermissionDenied { ... }
//
// For tests, package apitest runs the project's stub of the API in-process
// and hands out clients wired to it.
//
// # Codes of answers that are not a google.rpc.Status
//
// An answer from something in front of the API (an HTML page from a proxy
// or load balancer) still becomes an *Error. Its Code is grpc-gateway's
// HTTP mapping read backwards (401 UNAUTHENTICATED, 403 PERMISSION_DENIED,
// 404 NOT_FOUND, 429 RESOURCE_EXHAUSTED, 500 INTERNAL, 503 UNAVAILABLE, 504
// DEADLINE_EXCEEDED, ...); 502, which no gRPC code maps to, is UNAVAILABLE,
// as in gRPC's own HTTP-to-gRPC mapping; any other status is UNKNOWN. A
// redirect is UNAUTHENTICATED.
package api
