package stub

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/torqapi/integrations/internal/auth"
)

// FuzzStub sends arbitrary methods, paths, queries, headers and bodies
// through the whole stack and asserts that it never panics, never answers
// 5xx unless Prefer forced it, and that every body is JSON valid against the
// contract (a Status for errors, an IntegrationList for a 200 of the list).
func FuzzStub(f *testing.F) {
	seeds := []struct{ method, path, query, prefer, authz, body string }{
		{"GET", "/public/v1alpha/integrations", "", "", demoAuth, ""},
		{"GET", "/v1alpha/integrations", "type_id=webhook", "", demoAuth, ""},
		{"GET", "/public/v1alpha/integrations", "typeId=slack&x=1", "", demoAuth, ""},
		{"GET", "/public/v1alpha/integrations", "type_id=a&type_id=b", "", demoAuth, ""},
		{"GET", "/public/v1alpha/integrations", "type_id=%zz", "", demoAuth, ""},
		{"GET", "/public/v1alpha/integrations", "type_id=", "", demoAuth, ""},
		{"GET", "/public/v1alpha/integrations", "a;b=c", "", demoAuth, ""},
		{"GET", "/public/v1alpha/integrations", "", "code=429", demoAuth, ""},
		{"GET", "/public/v1alpha/integrations", "", "code=500", demoAuth, ""},
		{"GET", "/public/v1alpha/integrations", "", "code=abc, code=404", demoAuth, ""},
		{"GET", "/public/v1alpha/integrations", "", "", "Bearer denied-token", ""},
		{"GET", "/public/v1alpha/integrations", "", "", "Bearer  tqs1.AAAA.BBBB", ""},
		{"GET", "/public/v1alpha/integrations", "", "", "bearer " + auth.DemoToken, ""},
		{"POST", "/public/v1alpha/integrations", "", "", demoAuth, "{}"},
		{"POST", "/v1/auth/token", "", "", "Basic dG9ycS1zdHViLWNsaWVudC1pZDp0b3JxLXN0dWItY2xpZW50LXNlY3JldA==", "grant_type=client_credentials"},
		{"POST", "/v1/auth/token", "", "", "", "grant_type=password&client_id=x"},
		{"GET", "/healthz", "", "", "", ""},
		{"HEAD", "/openapi.yaml", "", "", "", ""},
		{"GET", "/public/../healthz", "", "", "", ""},
		{"GET", "//v1alpha/integrations", "", "", demoAuth, ""},
		{"", "", "", "", "", ""},
		{"PATCH", "/nope\x00", "\xff=\xfe", "code=\xff", "Bearer \xff", "\x00"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.prefer, s.authz, s.body)
	}
	s := newStub(f, Config{Auth: auth.Config{DeniedTokens: []string{"denied-token"}}})
	f.Fuzz(func(t *testing.T, method, path, query, prefer, authz, body string) {
		r := &http.Request{
			Method:        method,
			URL:           &url.URL{Path: path, RawQuery: query},
			Proto:         "HTTP/1.1",
			ProtoMajor:    1,
			ProtoMinor:    1,
			Header:        http.Header{},
			Body:          io.NopCloser(strings.NewReader(body)),
			ContentLength: int64(len(body)),
			Host:          "127.0.0.1",
			RemoteAddr:    "127.0.0.1:1234",
			RequestURI:    path,
		}
		if body == "" {
			r.Body, r.ContentLength = http.NoBody, 0
		} else {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if prefer != "" {
			r.Header.Set("Prefer", prefer)
		}
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		r = r.WithContext(context.Background())
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code >= 500 {
			e := preferred(r, s.list)
			if e == nil || e.Code.HTTPStatus() != w.Code {
				t.Fatalf("%q %q?%q: unforced %d: %s", method, path, query, w.Code, w.Body)
			}
		}
		checkBody(t, r, w)
	})
}
