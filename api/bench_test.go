package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/torqapi/integrations/api"
	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/bench/benchdata"
)

// bytesTransport answers every request with the same precomputed JSON body,
// so a benchmark through it measures the client, not a network or a server.
type bytesTransport struct{ body []byte }

func (t bytesTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode:    http.StatusOK,
		Status:        "200 OK",
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(t.body)),
		ContentLength: int64(len(t.body)),
		Request:       r,
	}, nil
}

// BenchmarkDecodeList measures the client turning list responses of 10,
// 1,000 and 10,000 integrations into Go values: "parse" is the generated
// ParseListIntegrationsResponse alone, "client" is a whole
// api.Client.ListIntegrations call (request building, auth header, retry
// transport, decoding) against an in-memory transport.
func BenchmarkDecodeList(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		body, err := json.Marshal(generated.IntegrationList{Integrations: benchdata.Integrations(n)})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("parse/n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				resp, err := generated.ParseListIntegrationsResponse(&http.Response{
					StatusCode: http.StatusOK,
					Header:     http.Header{"Content-Type": {"application/json"}},
					Body:       io.NopCloser(bytes.NewReader(body)),
				})
				if err != nil {
					b.Fatal(err)
				}
				if len(resp.JSON200.Integrations) != n {
					b.Fatalf("decoded %d integrations, want %d", len(resp.JSON200.Integrations), n)
				}
			}
		})
		b.Run(fmt.Sprintf("client/n=%d", n), func(b *testing.B) {
			c, err := api.NewClient(
				api.WithBaseURL("http://127.0.0.1:8080/public"),
				api.WithBearerToken("torq-stub-token"),
				api.WithHTTPClient(&http.Client{Transport: bytesTransport{body: body}}),
			)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				list, err := c.ListIntegrations(ctx, api.ListIntegrationsParams{})
				if err != nil {
					b.Fatal(err)
				}
				if len(list) != n {
					b.Fatalf("decoded %d integrations, want %d", len(list), n)
				}
			}
		})
	}
}
