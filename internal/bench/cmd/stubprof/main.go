// Command stubprof serves the stub's handler stack (internal/stub, the same
// factory cmd/torq-stub calls, with its defaults: strict response
// validation, a text request log) and, on a second loopback listener,
// net/http/pprof. It exists only to profile the stub under load; the
// shipped binary carries no profiling endpoints. Its log is a plain
// slog.TextHandler writing each line to the file (or nowhere): the shipped
// binary's buffered writer and faster text handler are not here, so the log
// weighs more in its profile than in torq-stub.
//
//	go run ./internal/bench/cmd/stubprof --addr 127.0.0.1:8080 --pprof 127.0.0.1:6060 --log /tmp/stub.log &
//	taskset -c 1 wrk -t1 -c16 -d20s -H 'Authorization: Bearer torq-stub-token' http://127.0.0.1:8080/v1alpha/integrations &
//	go tool pprof -top -seconds 10 http://127.0.0.1:6060/debug/pprof/profile
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/torqapi/integrations/internal/stub"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "stubprof:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("stubprof", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "stub listen address")
	pprofAddr := fs.String("pprof", "127.0.0.1:0", "pprof listen address")
	fixtures := fs.String("fixtures", "", "fixture file (default: the embedded workspace)")
	logPath := fs.String("log", "", `request log file ("" discards it)`)
	validation := fs.String("validate-responses", string(stub.ValidateStrict), "strict, warn or off")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logOut := io.Discard
	if *logPath != "" {
		f, err := os.Create(*logPath)
		if err != nil {
			return err
		}
		defer f.Close()
		logOut = f
	}
	h, err := stub.NewHandler(stub.Config{
		FixturesFile:      *fixtures,
		ValidateResponses: stub.ResponseValidation(*validation),
		Logger:            slog.New(slog.NewTextHandler(logOut, nil)),
	})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)

	errc := make(chan error, 2)
	var servers []*http.Server
	for _, s := range []struct {
		addr, what string
		h          http.Handler
	}{{*addr, "stub", h}, {*pprofAddr, "pprof", mux}} {
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: s.h, ReadHeaderTimeout: 5 * time.Second}
		servers = append(servers, srv)
		fmt.Fprintf(stdout, "%s on http://%s\n", s.what, ln.Addr())
		go func() { errc <- srv.Serve(ln) }()
	}
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range servers {
		_ = srv.Shutdown(shutdown)
	}
	return nil
}
