// Command limit is the fastest server the load comparison can think of: a
// bare net/http server that answers the list route with bytes read from a
// file at start, with the headers it is given. Running it where the stub
// ran, with the very bytes the stub returned, shows what the machine, Go's
// HTTP server and the load generator allow; the stub's requests per second
// are reported as a share of it.
//
//	limit --addr 127.0.0.1:0 --body list.json --header 'Content-Type: application/json'
//
// It prints "listening on http://ADDR" once it accepts connections and stops
// on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "limit:", err)
		os.Exit(1)
	}
}

// headerList is a repeatable --header flag of "Name: value" pairs.
type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ", ") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

// run parses args, listens and serves until ctx ends.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("limit", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	bodyFile := fs.String("body", "", "file whose bytes every list request gets (required)")
	var headers headerList
	fs.Var(&headers, "header", `response header "Name: value" (repeatable)`)
	noLength := fs.Bool("no-content-length", false, "leave Content-Length to net/http, as a server that does not set it (bodies over 2 KiB are then chunked)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bodyFile == "" {
		return errors.New("--body is required")
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		return err
	}
	h, err := newHandler(body, headers, !*noLength)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: 16 << 10}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	}
}

// newHandler answers GET on the list routes with body and headers (and
// Content-Length when setLength), and GET /healthz with 200; anything else
// is 404. It does no other work, which is the point.
func newHandler(body []byte, headers []string, setLength bool) (http.Handler, error) {
	fixed := http.Header{}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("header %q: want \"Name: value\"", h)
		}
		fixed.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	if setLength {
		fixed.Set("Content-Length", strconv.Itoa(len(body)))
	}
	list := func(w http.ResponseWriter, _ *http.Request) {
		dst := w.Header()
		for k, v := range fixed {
			dst[k] = v
		}
		_, _ = w.Write(body)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /public/v1alpha/integrations", list)
	mux.HandleFunc("GET /v1alpha/integrations", list)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux, nil
}
