// Command torq is a small command-line client of Torq's integrations API,
// built on package api:
//
//	torq integrations list [--type-id T] [-o table|json]
//	torq version
//
// Credentials and endpoints come from the environment: TORQ_CLIENT_ID and
// TORQ_CLIENT_SECRET (an API key) or TORQ_TOKEN (a bearer token),
// TORQ_REGION (us or eu), TORQ_BASE_URL and TORQ_TOKEN_URL (for the stub:
// TORQ_BASE_URL=http://127.0.0.1:8080/public).
//
// Exit codes: 0 success, 1 an API or other runtime error, 2 a usage error.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/torqapi/integrations/api"
	"github.com/torqapi/integrations/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

const usage = `torq: a command-line client of Torq's integrations API.

Usage:
  torq integrations list [--type-id TYPE] [-o table|json]
  torq version
  torq --help

Environment:
  TORQ_CLIENT_ID, TORQ_CLIENT_SECRET  the Client ID and Client Secret of a Torq API key
  TORQ_TOKEN                          or a bearer token (valid for an hour)
  TORQ_REGION                         us (default) or eu
  TORQ_BASE_URL                       API base URL, /public included (for the stub: http://127.0.0.1:8080/public)
  TORQ_TOKEN_URL                      OAuth2 token endpoint (for the stub: http://127.0.0.1:8080/v1/auth/token)

Exit codes: 0 success, 1 API or other error, 2 usage error.
`

// usageError is a mistake in the command line or the environment: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// run is the whole command: main only wires the process to it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, getenv, stdout)
	var ue *usageError
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "torq: %s\nRun 'torq --help' for usage.\n", ue.msg)
		return exitUsage
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "torq: ") {
		msg = "torq: " + msg
	}
	fmt.Fprintln(stderr, msg)
	var ae *api.Error
	if errors.As(err, &ae) && ae.Code == api.CodeUnauthenticated {
		fmt.Fprintln(stderr, "torq: check TORQ_CLIENT_ID/TORQ_CLIENT_SECRET or TORQ_TOKEN, and TORQ_REGION")
	}
	return exitError
}

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("no command")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		_, err := io.WriteString(stdout, usage)
		return err
	case "version", "--version":
		_, err := fmt.Fprintln(stdout, "torq", version.String())
		return err
	case "integrations":
		if len(args) < 2 {
			return usagef("integrations: missing subcommand (list)")
		}
		switch args[1] {
		case "list":
			return list(ctx, args[2:], getenv, stdout)
		case "-h", "-help", "--help", "help":
			_, err := io.WriteString(stdout, usage)
			return err
		}
		return usagef("integrations: unknown subcommand %q (want list)", args[1])
	}
	return usagef("unknown command %q", args[0])
}

func list(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("torq integrations list", flag.ContinueOnError)
	var flagOut strings.Builder
	fs.SetOutput(&flagOut)
	typeID := fs.String("type-id", "", "list only integrations of this `type` (for example webhook, slack)")
	output := fs.String("o", "table", "output `format`: table or json")
	fs.Usage = func() {
		fmt.Fprintf(&flagOut, "Usage: torq integrations list [--type-id TYPE] [-o table|json]\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, _ = io.WriteString(stdout, flagOut.String())
			return flag.ErrHelp
		}
		return usagef("integrations list: %v", err)
	}
	if fs.NArg() > 0 {
		return usagef("integrations list: unexpected argument %q", fs.Arg(0))
	}
	if *output != "table" && *output != "json" {
		return usagef("integrations list: -o must be table or json, not %q", *output)
	}
	c, err := newClient(getenv)
	if err != nil {
		return err
	}
	items, err := c.ListIntegrations(ctx, api.ListIntegrationsParams{TypeID: *typeID})
	if err != nil {
		return err
	}
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Integrations []api.Integration `json:"integrations"`
		}{items})
	}
	return writeTable(stdout, items)
}

// newClient builds the client from the environment; every mistake there is
// a usage error.
func newClient(getenv func(string) string) (*api.Client, error) {
	opts := []api.Option{api.WithUserAgent("torq-cli/" + version.String())}
	id, secret, token := getenv("TORQ_CLIENT_ID"), getenv("TORQ_CLIENT_SECRET"), getenv("TORQ_TOKEN")
	switch {
	case token != "" && (id != "" || secret != ""):
		return nil, usagef("set either TORQ_TOKEN or TORQ_CLIENT_ID and TORQ_CLIENT_SECRET, not both")
	case token != "":
		opts = append(opts, api.WithBearerToken(token))
	case id != "" && secret != "":
		opts = append(opts, api.WithClientCredentials(id, secret))
	case id != "" || secret != "":
		return nil, usagef("TORQ_CLIENT_ID and TORQ_CLIENT_SECRET go together; one of them is empty")
	default:
		return nil, usagef("no credentials: set TORQ_CLIENT_ID and TORQ_CLIENT_SECRET, or TORQ_TOKEN")
	}
	if r := strings.ToLower(strings.TrimSpace(getenv("TORQ_REGION"))); r != "" {
		opts = append(opts, api.WithRegion(api.Region(r)))
	}
	if u := getenv("TORQ_BASE_URL"); u != "" {
		opts = append(opts, api.WithBaseURL(u))
	}
	if u := getenv("TORQ_TOKEN_URL"); u != "" {
		opts = append(opts, api.WithTokenURL(u))
	}
	c, err := api.NewClient(opts...)
	if err != nil {
		// Option errors name the option, never a secret.
		return nil, usagef("%s", strings.TrimPrefix(err.Error(), "api: "))
	}
	return c, nil
}

func writeTable(w io.Writer, items []api.Integration) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTYPE\tSHARING\tCREATED\tLAST USED")
	for _, it := range items {
		sharing := string(it.SharingData.Direction)
		if sharing == "" {
			sharing = string(api.SharingNotShared) // the documented default
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", it.ID, cell(it.Name), cell(it.TypeID), sharing, when(it.CreatedAt), when(it.LastUsedAt))
	}
	return tw.Flush()
}

// cell keeps a value on one table line.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
