package control_test

import (
	"encoding/json"
	"fmt"

	gencontrol "github.com/torqapi/integrations/generated/control"
	"github.com/torqapi/integrations/internal/control"
)

// A Backend that builds scripts from another source (a fixture, a flag)
// checks them with ParseScript, as the handler does.
func ExampleParseScript() {
	var in gencontrol.Script
	_ = json.Unmarshal([]byte(`{"workspace":"ws1","steps":[{"status":429,"retry_after":"2s"},{"delay":"soon"},{"status":503,"body":"html"}]}`), &in)
	_, err := control.ParseScript(in)
	fmt.Println(err)
	for _, v := range err.(*control.Error).Violations {
		fmt.Printf("%s: %s\n", v.Field, v.Description)
	}
	// Output:
	// INVALID_ARGUMENT: steps[1].delay: "soon" is not a duration such as "500ms" or "2s" (and 1 more)
	// steps[1].delay: "soon" is not a duration such as "500ms" or "2s"
	// steps[2].body: html only with status 502
}
