package stub

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/torqapi/integrations/internal/fixtures"
	"github.com/torqapi/integrations/internal/rpcstatus"
	"github.com/torqapi/integrations/internal/validate"
)

// queryRules are grpc-gateway's rules for the query of one operation, where
// they differ from plain OpenAPI; they are derived from the parameters the
// contract declares for it, so a parameter added to the contract follows
// them with no code to write:
//
//   - a malformed query (a bad %-escape, a `;` separator) is 400 naming its
//     field, as the gateway's url.ParseQuery failure is;
//   - each parameter is also accepted under its lowerCamelCase name (the
//     protobuf JSON name: type_id and typeId), noted as a warning;
//   - a scalar parameter given more than once is 400 with the gateway's
//     message ("too many values for field"); the two names of one
//     parameter count as one;
//   - an empty value is proto3's default value, which the server cannot
//     tell from an absent field: it is dropped, noted as a warning;
//   - unknown parameters are ignored, noted as a warning naming the
//     closest declared parameter.
//
// What remains is rewritten into one canonical query under the declared
// names, which kin-openapi then validates and the generated handler reads:
// both see exactly the parameters the operation will act on.
type queryRules struct {
	params []*openapi3.Parameter
	byName map[string]*openapi3.Parameter // declared names and aliases
	names  []string                       // declared names, for "did you mean"
}

func newQueryRules(op *validate.Operation) *queryRules {
	q := &queryRules{params: op.QueryParameters(), byName: map[string]*openapi3.Parameter{}}
	for _, p := range q.params {
		q.byName[p.Name] = p
		q.names = append(q.names, p.Name)
	}
	for _, p := range q.params {
		if alias := lowerCamel(p.Name); alias != p.Name {
			if _, taken := q.byName[alias]; !taken {
				q.byName[alias] = p
			}
		}
	}
	return q
}

// lowerCamel is protoc's JSON name of a field: each letter after an
// underscore upper-cased, the underscores dropped ("type_id" => "typeId").
func lowerCamel(name string) string {
	if !strings.Contains(name, "_") {
		return name
	}
	var b strings.Builder
	up := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_':
			up = true
		case up && 'a' <= c && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
			up = false
		default:
			b.WriteByte(c)
			up = false
		}
	}
	return b.String()
}

// maxWarnings bounds the warnings one request can produce.
const maxWarnings = 8

// apply holds r's query to the rules. It returns r itself when its query
// is already canonical, else a shallow copy with the canonical query; the
// warnings say what the gateway accepted but a careful client would not
// send.
func (q *queryRules) apply(r *http.Request) (*http.Request, []string, *rpcstatus.Error) {
	raw := r.URL.RawQuery
	if raw == "" {
		return r, nil, nil
	}
	var (
		warnings []string
		values   map[*openapi3.Parameter][]string
		clean    = true // raw already is the canonical query
	)
	warn := func(s string) {
		if len(warnings) < maxWarnings {
			warnings = append(warnings, s)
		}
	}
	for rest := raw; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, "&")
		if part == "" {
			clean = false
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if strings.Contains(part, ";") {
			return nil, warnings, badQuery(fieldName(k), "invalid semicolon separator in query")
		}
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, warnings, badQuery(fieldName(k), err.Error())
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			return nil, warnings, badQuery(fieldName(k), err.Error())
		}
		if key != k || value != v {
			clean = false
		}
		p := q.byName[key]
		switch {
		case p == nil:
			clean = false
			warn(unknownParam(key, q.names))
			continue
		case key != p.Name:
			clean = false
			warn(truncate(key, 64) + " is grpc-gateway's camelCase alias of " + p.Name + "; Torq accepts it, the contract names " + p.Name)
		}
		if values == nil {
			values = make(map[*openapi3.Parameter][]string, len(q.params))
		}
		values[p] = append(values[p], value)
	}
	var canonical strings.Builder
	for _, p := range q.params {
		vs := values[p]
		if len(vs) > 1 && !isArray(p) {
			// grpc-gateway's message as it is, with the BadRequest the
			// stub adds to every bad parameter.
			msg := "too many values for field \"" + p.Name + "\": " + truncate(strings.Join(vs, ", "), 128)
			return nil, warnings, rpcstatus.Errorf(rpcstatus.InvalidArgument, "%s", msg).
				WithDetails(rpcstatus.BadRequest(rpcstatus.FieldViolation{Field: p.Name, Description: msg}))
		}
		for _, v := range vs {
			if v == "" {
				// proto3's default value: the gateway cannot tell it from
				// an absent parameter, and neither does Torq.
				clean = false
				warn(p.Name + "= (empty) is proto3's default value: Torq answers as if " + p.Name + " were absent")
				continue
			}
			if canonical.Len() > 0 {
				canonical.WriteByte('&')
			}
			canonical.WriteString(url.QueryEscape(p.Name))
			canonical.WriteByte('=')
			canonical.WriteString(url.QueryEscape(v))
		}
	}
	if clean && canonical.String() == raw {
		return r, warnings, nil
	}
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.RawQuery = canonical.String()
	r2.URL = &u
	r2.Form = nil
	return r2, warnings, nil
}

func isArray(p *openapi3.Parameter) bool {
	return p.Schema != nil && p.Schema.Value != nil && p.Schema.Value.Type.Is(openapi3.TypeArray)
}

// unknownParam is the warning for a query parameter the operation does not
// declare: ignored, as the gateway ignores it, with the closest name.
func unknownParam(key string, names []string) string {
	w := "unknown query parameter " + fieldName(url.QueryEscape(key)) + " is ignored"
	if best := fixtures.Closest(key, names); best != "" {
		w += " (did you mean " + best + "?)"
	}
	return w
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// fieldName is a query key fit to be named in an error: unescaped when it
// can be, bounded in length.
func fieldName(k string) string {
	if u, err := url.QueryUnescape(k); err == nil {
		k = u
	}
	if k == "" {
		return "query"
	}
	return truncate(k, 64)
}

func badQuery(field, desc string) *rpcstatus.Error {
	return rpcstatus.Errorf(rpcstatus.InvalidArgument, "%s: %s", field, desc).
		WithDetails(rpcstatus.BadRequest(rpcstatus.FieldViolation{Field: field, Description: desc}))
}
