package control

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	gencontrol "github.com/torqapi/integrations/generated/control"
	"github.com/torqapi/integrations/internal/script"
)

// Script is a validated script, as ParseScript returns it: which requests
// it answers and the steps they consume, one per request, in order.
type Script struct {
	// Workspace is the workspace whose requests the script answers.
	Workspace string
	// Token, when not empty, limits the script to requests with this
	// bearer token.
	Token string
	// Query, when not empty, limits the script to requests whose query has
	// each of these parameters with this value.
	Query map[string]string
	// Steps are the answers, in order; never empty in a parsed script.
	Steps []Step
	// Repeat starts the script over once every step is consumed, instead of
	// removing it.
	Repeat bool
}

// StepKind says what a step does.
type StepKind uint8

// The kinds of step.
const (
	// StepStatus answers with Status (and Message, RetryAfter, HTMLBody),
	// after Delay.
	StepStatus StepKind = iota + 1
	// StepDelay gives the normal answer, Delay late.
	StepDelay
	// StepFault breaks the connection as Fault says.
	StepFault
	// StepPass gives the normal answer.
	StepPass
)

// Fault is a connection fault a step can inject: internal/script's, which
// runs the steps.
type Fault = script.Fault

// The connection faults.
const (
	FaultReset    = script.FaultReset
	FaultTruncate = script.FaultTruncate
	FaultDribble  = script.FaultDribble
	FaultStall    = script.FaultStall
)

// Step is one parsed step. Only the fields of its Kind are set.
type Step struct {
	Kind StepKind
	// Status is the HTTP status (StepStatus), one of Statuses.
	Status int
	// Message replaces the google.rpc.Status message Torq sends with
	// Status; empty means Torq's.
	Message string
	// RetryAfter, when positive, adds Retry-After and a RetryInfo (429 and
	// 503 only).
	RetryAfter time.Duration
	// HTMLBody answers a proxy's HTML page instead of a Status (502 only).
	HTMLBody bool
	// Delay is the wait before answering (StepStatus, StepDelay).
	Delay time.Duration
	// Fault is the connection fault (StepFault).
	Fault Fault
}

// Statuses are the HTTP statuses a step may answer with: the code table the
// stub supports, and 302, Torq's answer to an expired token.
var Statuses = script.Statuses

// Bounds of a script, as the contract states them.
const (
	// MaxDuration bounds a delay or a retry_after: a test that needs the
	// client to wait longer wants a stall fault.
	MaxDuration = script.MaxDelay
	// MaxSteps bounds the steps of one script.
	MaxSteps = script.MaxSteps
	// MaxMessageLen bounds a step's message, in bytes.
	MaxMessageLen = script.MaxMessage
	// MaxTokenLen bounds a script's token, in bytes.
	MaxTokenLen = 4096
	// MaxQueryParams bounds the parameters a script matches.
	MaxQueryParams = 32
	// MaxQueryValueLen bounds one matched value, in bytes.
	MaxQueryValueLen = 1024
)

// idPattern is the contract's WorkspaceID and ScriptID.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidID reports whether id is a valid workspace or script id: 1 to 64
// letters, digits, '.', '_' or '-', starting with a letter or a digit. A
// Backend generating ids checks them with it.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// ParseScript checks a script as the control API received it and returns
// it parsed: durations read, each step's shape checked (one kind per step;
// message, retry_after and body only where they mean something; the status
// from Statuses). Every bad field is reported, as one *Error of code
// INVALID_ARGUMENT whose violations name them ("steps[1].delay"). It
// checks everything the contract's Script schema does, so a Backend can
// rely on it without the HTTP layer.
func ParseScript(in gencontrol.Script) (Script, error) {
	var v violations
	if !ValidID(in.Workspace) {
		v.add("workspace", fmt.Sprintf("%q is not a workspace id (1 to 64 letters, digits, '.', '_' or '-')", in.Workspace))
	}
	if len(in.Token) > MaxTokenLen {
		v.add("token", fmt.Sprintf("longer than %d bytes", MaxTokenLen))
	}
	if len(in.Query) > MaxQueryParams {
		v.add("query", fmt.Sprintf("more than %d parameters", MaxQueryParams))
	}
	for k, val := range in.Query {
		switch {
		case k == "":
			v.add("query", "a parameter name is empty")
		case len(val) > MaxQueryValueLen:
			v.add("query."+k, fmt.Sprintf("longer than %d bytes", MaxQueryValueLen))
		}
	}
	switch n := len(in.Steps); {
	case n == 0:
		v.add("steps", "a script needs at least one step")
	case n > MaxSteps:
		v.add("steps", fmt.Sprintf("more than %d steps", MaxSteps))
	}
	out := Script{Workspace: in.Workspace, Token: in.Token, Repeat: in.Repeat, Steps: make([]Step, 0, len(in.Steps))}
	if len(in.Query) > 0 {
		out.Query = make(map[string]string, len(in.Query))
		for k, val := range in.Query {
			out.Query[k] = val
		}
	}
	for i, s := range in.Steps {
		if i >= MaxSteps {
			break
		}
		out.Steps = append(out.Steps, parseStep(&v, "steps["+strconv.Itoa(i)+"]", s))
	}
	if len(v) > 0 {
		return Script{}, InvalidFields(v...)
	}
	return out, nil
}

// violations collects the bad fields of one request.
type violations []FieldViolation

func (v *violations) add(field, description string) {
	*v = append(*v, FieldViolation{Field: field, Description: description})
}

// parseStep checks one step; at is its path ("steps[1]").
func parseStep(v *violations, at string, s gencontrol.Step) Step {
	var out Step
	kinds := 0
	if s.Status != 0 {
		kinds++
		out.Kind = StepStatus
		out.Status = int(s.Status)
		if !validStatus(out.Status) {
			v.add(at+".status", fmt.Sprintf("%d is not one of %v", s.Status, Statuses))
		}
	}
	if s.Fault != "" {
		kinds++
		out.Kind = StepFault
		out.Fault = Fault(s.Fault)
		switch out.Fault {
		case FaultReset, FaultTruncate, FaultDribble, FaultStall:
		default:
			v.add(at+".fault", fmt.Sprintf("%q is not one of reset, truncate, dribble, stall", s.Fault))
		}
	}
	if s.Pass {
		kinds++
		out.Kind = StepPass
	}
	if s.Delay != "" {
		out.Delay = parseDuration(v, at+".delay", s.Delay)
		if kinds == 0 {
			out.Kind = StepDelay
		}
	}
	switch {
	case kinds == 0 && s.Delay == "":
		v.add(at, `a step needs one of status, delay, fault or pass: {"status": 503}, {"delay": "500ms"}, {"fault": "reset"}, {"pass": true}`)
	case kinds > 1:
		v.add(at, "a step is one of status, fault or pass, not several")
	}
	if s.Delay != "" && (out.Kind == StepFault || out.Kind == StepPass) {
		v.add(at+".delay", `only with status, or alone (the normal answer, late)`)
	}
	if s.Message != "" {
		out.Message = s.Message
		switch {
		case out.Kind != StepStatus:
			v.add(at+".message", "only with status")
		case out.Status == 302:
			v.add(at+".message", "302 has no google.rpc.Status to carry a message")
		case s.Body != "":
			v.add(at+".message", "an HTML body has no google.rpc.Status to carry a message")
		case len(s.Message) > MaxMessageLen:
			v.add(at+".message", fmt.Sprintf("longer than %d bytes", MaxMessageLen))
		}
	}
	if s.RetryAfter != "" {
		out.RetryAfter = parseDuration(v, at+".retry_after", s.RetryAfter)
		if out.Kind != StepStatus || (out.Status != 429 && out.Status != 503) {
			v.add(at+".retry_after", "only with status 429 or 503")
		}
	}
	if s.Body != "" {
		out.HTMLBody = true
		switch {
		case s.Body != gencontrol.HTML:
			v.add(at+".body", fmt.Sprintf("%q is not html", s.Body))
		case out.Kind != StepStatus || out.Status != 502:
			v.add(at+".body", "html only with status 502")
		}
	}
	if out.Kind != StepStatus {
		// Keep only the fields of the kind, as Step documents.
		out.Status, out.Message, out.RetryAfter, out.HTMLBody = 0, "", 0, false
	}
	return out
}

func validStatus(status int) bool {
	for _, s := range Statuses {
		if s == status {
			return true
		}
	}
	return false
}

// parseDuration reads a Go duration string, not negative and at most
// MaxDuration.
func parseDuration(v *violations, field, s string) time.Duration {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil || len(s) > 32:
		v.add(field, fmt.Sprintf("%q is not a duration such as \"500ms\" or \"2s\"", truncate(s, 40)))
	case d < 0:
		v.add(field, fmt.Sprintf("%q is negative", s))
	case d > MaxDuration:
		v.add(field, fmt.Sprintf("%q is longer than %v", s, MaxDuration))
	}
	return d
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// wireStep is s as the control API writes it (a script's steps_left):
// durations as Go writes them ("500ms", "1m30s"), which ParseScript reads
// back to the same step.
func wireStep(s Step) gencontrol.Step {
	var out gencontrol.Step
	switch s.Kind {
	case StepStatus:
		out.Status = gencontrol.StepStatus(s.Status)
		out.Message = s.Message
		if s.RetryAfter > 0 {
			out.RetryAfter = s.RetryAfter.String()
		}
		if s.HTMLBody {
			out.Body = gencontrol.HTML
		}
		if s.Delay > 0 {
			out.Delay = s.Delay.String()
		}
	case StepDelay:
		out.Delay = s.Delay.String()
	case StepFault:
		out.Fault = gencontrol.StepFault(s.Fault)
	case StepPass:
		out.Pass = true
	}
	return out
}

// WireScript is s as the control API's Script body: the inverse of
// ParseScript, for a Backend (or a Go test) that builds a script in Go and
// sends or stores it in the contract's form.
func WireScript(s Script) gencontrol.Script {
	out := gencontrol.Script{Workspace: s.Workspace, Token: s.Token, Query: s.Query, Repeat: s.Repeat, Steps: make([]gencontrol.Step, len(s.Steps))}
	for i, st := range s.Steps {
		out.Steps[i] = wireStep(st)
	}
	return out
}
