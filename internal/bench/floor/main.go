// Command floor is the floor of the stub's readiness with a large fixture
// file: it does only what no design can skip, with encoding/json and the
// generated types: read and decode the file, then encode the bodies a list
// answers (the full list, and the list of each type_id). No validation, no
// indexes, no server. `make bench` times it from process start to exit,
// in the same run as the stub's start and reload with the same file, and
// reports the stub's times as multiples of it.
//
//	floor integrations-100000.json
//
// It prints one line: integrations, type_ids and bytes encoded.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/torqapi/integrations/generated"
)

// maxFile bounds the fixture file read (the 100,000-integration file is
// about 40 MB).
const maxFile = 1 << 30

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: floor FIXTURES.json")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

// stats is what one pass did, to show it did the work.
type stats struct {
	Integrations, TypeIDs int
	Bytes                 int64
}

func run(path string, out io.Writer) error {
	st, err := encodeFile(path)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%d integrations, %d type_ids, %d bytes encoded\n", st.Integrations, st.TypeIDs, st.Bytes)
	return err
}

// encodeFile decodes the fixture file and encodes its list bodies.
func encodeFile(path string) (stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return stats{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return stats{}, err
	}
	if len(data) > maxFile {
		return stats{}, errors.New("fixture file larger than 1 GiB")
	}
	var list generated.IntegrationList
	if err := json.Unmarshal(data, &list); err != nil {
		return stats{}, fmt.Errorf("%s: %w", path, err)
	}
	return encodeBodies(list.Integrations)
}

// encodeBodies encodes the full list and the list of each type_id, as a
// list answer carries them.
func encodeBodies(items []generated.Integration) (stats, error) {
	st := stats{Integrations: len(items)}
	full, err := json.Marshal(generated.IntegrationList{Integrations: items})
	if err != nil {
		return st, err
	}
	st.Bytes += int64(len(full))
	byType := map[string][]generated.Integration{}
	for _, it := range items {
		byType[it.TypeID] = append(byType[it.TypeID], it)
	}
	st.TypeIDs = len(byType)
	types := make([]string, 0, len(byType))
	for t := range byType {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, t := range types {
		b, err := json.Marshal(generated.IntegrationList{Integrations: byType[t]})
		if err != nil {
			return st, err
		}
		st.Bytes += int64(len(b))
	}
	return st, nil
}
