package workspace

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/fixtures"
)

// ownSet is a workspace's own integrations, immutable: the judged items as
// they were given (their encodings are the Items' bytes, never copied) and
// what sharing needs of the shared ones. It is kept across states while the
// workspace's data does not change.
type ownSet struct {
	items  []fixtures.Item
	shared []sharedItem // the incoming and outgoing items, in item order
	// targets are the workspaces its outgoing items are shared with, and
	// sources those its incoming items name, each distinct, in item order.
	targets, sources []string
}

// sharedItem is what sharing needs of an own item that is incoming or
// outgoing; its id and bytes are read from the Item.
type sharedItem struct {
	index      int32 // in ownSet.items
	incoming   bool  // else outgoing
	workspaces []string
}

// newOwnSet takes judged items as they are: the set keeps the slice, which
// the caller must not change afterwards. An item shared with the workspace
// it is in is refused: Torq never reports such sharing.
//
// Nothing is allocated per item that is not shared: duplicate ids are
// found by sorting indices (four bytes an item, where a map would take
// several times that), and the shared items are counted before they are
// kept, so that their slice is allocated once.
func newOwnSet(wsID string, items []fixtures.Item) (*ownSet, []fixtures.Problem) {
	o := &ownSet{items: items}
	dups := duplicates(items)
	nShared := 0
	for i := range items {
		// Sharing copies its workspace ids: nothing to copy for an item
		// that is not shared.
		if d := items[i].Sharing().Direction; d == generated.SharingIncoming || d == generated.SharingOutgoing {
			nShared++
		}
	}
	if nShared > 0 {
		o.shared = make([]sharedItem, 0, nShared)
	}
	var problems []fixtures.Problem
	for i := range items {
		it := &items[i]
		if len(it.JSON()) == 0 {
			// The zero Item: only fixtures makes judged ones.
			problems = append(problems, fixtures.Problem{Index: i, Reason: "not a judged item (the zero fixtures.Item)"})
			continue
		}
		id := it.ID()
		if j, dup := dups[i]; dup {
			// Each Item was judged alone; a list of them may repeat one.
			problems = append(problems, fixtures.Problem{Index: i, ID: id.String(), Field: "id",
				Reason: fmt.Sprintf("duplicate: integrations[%d] has the same id", j)})
		}
		sh := it.Sharing()
		if sh.Direction != generated.SharingIncoming && sh.Direction != generated.SharingOutgoing {
			continue
		}
		si := sharedItem{index: int32(i), incoming: sh.Direction == generated.SharingIncoming}
		for k, w := range sh.WorkspaceIDs {
			if w == wsID {
				problems = append(problems, fixtures.Problem{Index: i, ID: id.String(),
					Field:  fmt.Sprintf("sharing_data.workspace_ids[%d]", k),
					Reason: "names the integration's own workspace: an integration is not shared with itself"})
			}
			if !slices.Contains(si.workspaces, w) {
				// In place: the distinct ids are a prefix of the copy.
				si.workspaces = append(sh.WorkspaceIDs[:len(si.workspaces)], w)
			}
		}
		si.workspaces = slices.Clip(si.workspaces)
		list := &o.targets
		if si.incoming {
			list = &o.sources
		}
		for _, w := range si.workspaces {
			if w != wsID && !slices.Contains(*list, w) {
				*list = append(*list, w)
			}
		}
		o.shared = append(o.shared, si)
	}
	return o, problems
}

// duplicates maps the index of each judged item whose id an earlier one
// has to the index of the latest such earlier item; nil when the ids are
// distinct (the zero Item has none).
func duplicates(items []fixtures.Item) map[int]int {
	perm := make([]int32, 0, len(items))
	for i := range items {
		if len(items[i].JSON()) > 0 {
			perm = append(perm, int32(i))
		}
	}
	slices.SortFunc(perm, func(a, b int32) int {
		x, y := items[a].ID(), items[b].ID()
		if c := bytes.Compare(x[:], y[:]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	var dups map[int]int
	for k := 1; k < len(perm); k++ {
		if items[perm[k]].ID() == items[perm[k-1]].ID() {
			if dups == nil {
				dups = make(map[int]int)
			}
			dups[int(perm[k])] = int(perm[k-1])
		}
	}
	return dups
}

// json returns own item i's encoding.
func (o *ownSet) json(i int) []byte { return o.items[i].JSON() }

// derived is an integration shared into a workspace by another: the
// source's item with sharing_data {incoming, [source]}.
type derived struct {
	json   []byte
	id     uuid.UUID
	typeID string
	source string
	index  int // the item's index in the source's own items
}

// derive encodes own item i of the workspace source as the workspace it is
// shared with sees it. Only sharing_data changes, to values the contract
// admits, so the item stays as valid as it was judged.
func derive(source string, o *ownSet, i int) derived {
	var v generated.Integration
	// The bytes are json.Marshal's output of such a value (fixtures.Item).
	_ = json.Unmarshal(o.json(i), &v)
	v.SharingData = generated.SharingData{Direction: generated.SharingIncoming, WorkspaceIDs: []string{source}}
	b, err := json.Marshal(&v)
	if err != nil {
		panic("workspace: encode a judged integration: " + err.Error())
	}
	return derived{json: b, id: v.ID, typeID: v.TypeID, source: source, index: i}
}
