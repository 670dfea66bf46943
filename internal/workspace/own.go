package workspace

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/torqapi/integrations/generated"
	"github.com/torqapi/integrations/internal/fixtures"
)

// ownSet is a workspace's own integrations, immutable: their full list body
// and, per item, where its encoding lies in it and what sharing needs. It
// is kept across states while the workspace's data does not change.
type ownSet struct {
	body  []byte // the full list of the own items
	items []ownItem
	// targets are the workspaces its outgoing items are shared with, and
	// sources those its incoming items name, each distinct, in item order.
	targets, sources []string
}

// ownItem is one own integration. Sharing fields are kept only for shared
// items; everything else about it is its bytes.
type ownItem struct {
	span       span
	id         uuid.UUID
	typeID     string
	direction  generated.SharingDirection
	workspaces []string // distinct, for incoming and outgoing items
}

// newOwnSet lays judged items out as one body. An item shared with the
// workspace it is in is refused: Torq never reports such sharing.
func newOwnSet(wsID string, items []fixtures.Item) (*ownSet, []fixtures.Problem) {
	size := 0
	for i := range items {
		size += len(items[i].JSON()) + 1
	}
	o := &ownSet{items: make([]ownItem, len(items))}
	body := make([]byte, 0, size+len(listHead)+len(listTail))
	body = append(body, listHead...)
	var problems []fixtures.Problem
	seen := make(map[uuid.UUID]int, len(items))
	for i := range items {
		it := &items[i]
		if len(it.JSON()) == 0 {
			// The zero Item: only fixtures makes judged ones.
			problems = append(problems, fixtures.Problem{Index: i, Reason: "not a judged item (the zero fixtures.Item)"})
			continue
		}
		if j, dup := seen[it.ID()]; dup {
			// Each Item was judged alone; a list of them may repeat one.
			problems = append(problems, fixtures.Problem{Index: i, ID: it.ID().String(), Field: "id",
				Reason: fmt.Sprintf("duplicate: integrations[%d] has the same id", j)})
		}
		seen[it.ID()] = i
		if i > 0 {
			body = append(body, ',')
		}
		start := len(body)
		body = append(body, it.JSON()...)
		oi := ownItem{span: span{start, len(body)}, id: it.ID(), typeID: it.TypeID()}
		if sh := it.Sharing(); sh.Direction == generated.SharingIncoming || sh.Direction == generated.SharingOutgoing {
			oi.direction = sh.Direction
			for k, w := range sh.WorkspaceIDs {
				if w == wsID {
					problems = append(problems, fixtures.Problem{Index: i, ID: oi.id.String(),
						Field:  fmt.Sprintf("sharing_data.workspace_ids[%d]", k),
						Reason: "names the integration's own workspace: an integration is not shared with itself"})
				}
				if !slices.Contains(oi.workspaces, w) {
					oi.workspaces = append(oi.workspaces, w)
				}
			}
			list := &o.targets
			if oi.direction == generated.SharingIncoming {
				list = &o.sources
			}
			for _, w := range oi.workspaces {
				if w != wsID && !slices.Contains(*list, w) {
					*list = append(*list, w)
				}
			}
		}
		o.items[i] = oi
	}
	o.body = append(body, listTail...)
	return o, problems
}

// json returns own item i's encoding.
func (o *ownSet) json(i int) []byte {
	sp := o.items[i].span
	return o.body[sp.start:sp.end]
}

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
