package version

// This package has no golden files, yet go test ./... -update hands it the
// flag: linking the golden package defines it (see CONTRIBUTING.md).
import _ "github.com/torqapi/integrations/internal/golden"
