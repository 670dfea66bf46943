package control_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	gencontrol "github.com/torqapi/integrations/generated/control"
	"github.com/torqapi/integrations/internal/control"
)

func TestParseScript(t *testing.T) {
	tests := []struct {
		name   string
		json   string
		want   []control.Step
		fields []string
	}{
		{"every kind", `{"workspace":"ws1","steps":[{"status":503,"message":"down"},{"status":302},{"delay":"1.5s"},{"fault":"stall"},{"pass":true},{"status":429,"retry_after":"2s","delay":"10ms"}]}`,
			[]control.Step{
				{Kind: control.StepStatus, Status: 503, Message: "down"},
				{Kind: control.StepStatus, Status: 302},
				{Kind: control.StepDelay, Delay: 1500 * time.Millisecond},
				{Kind: control.StepFault, Fault: control.FaultStall},
				{Kind: control.StepPass},
				{Kind: control.StepStatus, Status: 429, RetryAfter: 2 * time.Second, Delay: 10 * time.Millisecond},
			}, nil},
		{"html 502", `{"workspace":"ws1","steps":[{"status":502,"body":"html"}]}`, []control.Step{{Kind: control.StepStatus, Status: 502, HTMLBody: true}}, nil},
		{"bad workspace", `{"workspace":"","steps":[{"pass":true}]}`, nil, []string{"workspace"}},
		{"no steps", `{"workspace":"ws1"}`, nil, []string{"steps"}},
		{"empty step", `{"workspace":"ws1","steps":[{}]}`, nil, []string{"steps[0]"}},
		{"two kinds", `{"workspace":"ws1","steps":[{"status":503,"fault":"reset"}]}`, nil, []string{"steps[0]"}},
		{"status outside the table", `{"workspace":"ws1","steps":[{"status":200}]}`, nil, []string{"steps[0].status"}},
		{"unknown fault", `{"workspace":"ws1","steps":[{"fault":"boom"}]}`, nil, []string{"steps[0].fault"}},
		{"bad duration", `{"workspace":"ws1","steps":[{"pass":true},{"delay":"5"}]}`, nil, []string{"steps[1].delay"}},
		{"negative duration", `{"workspace":"ws1","steps":[{"delay":"-1s"}]}`, nil, []string{"steps[0].delay"}},
		{"duration too long", `{"workspace":"ws1","steps":[{"delay":"11m"}]}`, nil, []string{"steps[0].delay"}},
		{"delay with a fault", `{"workspace":"ws1","steps":[{"fault":"reset","delay":"1s"}]}`, nil, []string{"steps[0].delay"}},
		{"delay with pass", `{"workspace":"ws1","steps":[{"pass":true,"delay":"1s"}]}`, nil, []string{"steps[0].delay"}},
		{"retry_after with 500", `{"workspace":"ws1","steps":[{"status":500,"retry_after":"1s"}]}`, nil, []string{"steps[0].retry_after"}},
		{"retry_after alone", `{"workspace":"ws1","steps":[{"retry_after":"1s"}]}`, nil, []string{"steps[0]", "steps[0].retry_after"}},
		{"bad retry_after", `{"workspace":"ws1","steps":[{"status":429,"retry_after":"2 s"}]}`, nil, []string{"steps[0].retry_after"}},
		{"html with 503", `{"workspace":"ws1","steps":[{"status":503,"body":"html"}]}`, nil, []string{"steps[0].body"}},
		{"html with message", `{"workspace":"ws1","steps":[{"status":502,"body":"html","message":"x"}]}`, nil, []string{"steps[0].message"}},
		{"body not html", `{"workspace":"ws1","steps":[{"status":502,"body":"xml"}]}`, nil, []string{"steps[0].body"}},
		{"message with 302", `{"workspace":"ws1","steps":[{"status":302,"message":"x"}]}`, nil, []string{"steps[0].message"}},
		{"message alone", `{"workspace":"ws1","steps":[{"delay":"1s","message":"x"}]}`, nil, []string{"steps[0].message"}},
		{"message too long", `{"workspace":"ws1","steps":[{"status":503,"message":"` + strings.Repeat("m", 1025) + `"}]}`, nil, []string{"steps[0].message"}},
		{"empty query name", `{"workspace":"ws1","query":{"":"x"},"steps":[{"pass":true}]}`, nil, []string{"query"}},
		{"every fault reported", `{"workspace":"ws1","steps":[{"delay":"x"},{"status":1},{"fault":"y"}]}`, nil, []string{"steps[0].delay", "steps[1].status", "steps[2].fault"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in gencontrol.Script
			if err := json.Unmarshal([]byte(tt.json), &in); err != nil {
				t.Fatal(err)
			}
			got, err := control.ParseScript(in)
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("ParseScript: %v", err)
				}
				if !reflect.DeepEqual(got.Steps, tt.want) {
					t.Errorf("steps = %+v\nwant    %+v", got.Steps, tt.want)
				}
				return
			}
			var ce *control.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *control.Error", err)
			}
			var fields []string
			for _, v := range ce.Violations {
				fields = append(fields, v.Field)
			}
			if !reflect.DeepEqual(fields, tt.fields) {
				t.Errorf("fields = %q, want %q (%v)", fields, tt.fields, err)
			}
			if !reflect.DeepEqual(got, control.Script{}) {
				t.Errorf("a bad script returned %+v", got)
			}
		})
	}
}

func TestParseScriptBounds(t *testing.T) {
	steps := make([]gencontrol.Step, control.MaxSteps+1)
	for i := range steps {
		steps[i].Pass = true
	}
	if _, err := control.ParseScript(gencontrol.Script{Workspace: "ws1", Steps: steps}); err == nil || !strings.Contains(err.Error(), "steps") {
		t.Errorf("%d steps: %v", len(steps), err)
	}
	if _, err := control.ParseScript(gencontrol.Script{Workspace: "ws1", Token: strings.Repeat("t", control.MaxTokenLen+1), Steps: steps[:1]}); err == nil {
		t.Error("a token past the bound was accepted")
	}
}

func TestErrorHelpers(t *testing.T) {
	if e := control.NotFound("workspace", "ws9"); e.Code != 5 || e.Message != `workspace "ws9" not found` {
		t.Errorf("NotFound = %+v", e)
	}
	if e := control.AlreadyExists("workspace", "ws1"); e.Code != 6 || e.Error() != `ALREADY_EXISTS: workspace "ws1" already exists` {
		t.Errorf("AlreadyExists = %+v, %q", e, e.Error())
	}
	e := control.InvalidFields(control.FieldViolation{Field: "a", Description: "x"}, control.FieldViolation{Field: "b", Description: "y"})
	if e.Code != 3 || e.Message != "a: x (and 1 more)" || len(e.Violations) != 2 {
		t.Errorf("InvalidFields = %+v", e)
	}
	if e := control.Invalid("limit", "too big"); e.Message != "limit: too big" || e.Violations[0].Field != "limit" {
		t.Errorf("Invalid = %+v", e)
	}
}

// FuzzParseScript holds ParseScript to its promises on any JSON body: no
// panic; an accepted script has bounded, non-negative durations, is
// accepted by the contract's Script schema too, and survives the trip to
// the wire (WireScript) and back unchanged.
func FuzzParseScript(f *testing.F) {
	for _, seed := range []string{
		`{"workspace":"ws1","steps":[{"status":503},{"status":429,"retry_after":"2s"},{"fault":"reset"},{"pass":true}]}`,
		`{"workspace":"ws1","token":"t","query":{"type_id":"jira"},"steps":[{"delay":"1m30s"}],"repeat":true}`,
		`{"workspace":"ws1","steps":[{"status":502,"body":"html","delay":"1.5s"}]}`,
		`{"workspace":"ws1","steps":[{"delay":"9223372036854775807ns"}]}`,
		`{"workspace":"ws1","steps":[{"delay":"-0s"},{"retry_after":".5s","status":503}]}`,
		`{"workspace":"ws1","steps":[{"delay":"1e3s"}]}`,
		`{"workspace":"","steps":[]}`,
	} {
		f.Add([]byte(seed))
	}
	doc, err := control.Load()
	if err != nil {
		f.Fatal(err)
	}
	schema := doc.Components.Schemas["Script"].Value
	f.Fuzz(func(t *testing.T, data []byte) {
		var in gencontrol.Script
		if json.Unmarshal(data, &in) != nil {
			return
		}
		s, err := control.ParseScript(in)
		if err != nil {
			var ce *control.Error
			if !errors.As(err, &ce) || ce.Code != 3 || len(ce.Violations) == 0 {
				t.Fatalf("error %v is not INVALID_ARGUMENT with violations", err)
			}
			return
		}
		for i, st := range s.Steps {
			if st.Delay < 0 || st.Delay > control.MaxDuration || st.RetryAfter < 0 || st.RetryAfter > control.MaxDuration {
				t.Fatalf("step %d: durations out of bounds: %+v", i, st)
			}
		}
		wire := control.WireScript(s)
		b, err := json.Marshal(wire)
		if err != nil {
			t.Fatal(err)
		}
		var value any
		if err := json.Unmarshal(b, &value); err != nil {
			t.Fatal(err)
		}
		if err := schema.VisitJSON(value); err != nil {
			t.Fatalf("ParseScript accepted %s, the contract refuses it: %v", b, err)
		}
		back, err := control.ParseScript(wire)
		if err != nil || !reflect.DeepEqual(back, s) {
			t.Fatalf("round trip of %s: %+v, %v; want %+v", b, back, err, s)
		}
	})
}
