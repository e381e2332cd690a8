// Package yamlalias refuses YAML whose aliases expand it beyond a bound: the
// "billion laughs" of YAML, where a few hundred bytes of nested anchors and
// aliases stand for billions of nodes. Parsers that expand aliases (kyaml's
// de-anchoring in kustomize, SOPS's stores) would spend minutes and
// gigabytes on such a file. Check reads the file as a tree of nodes, which
// keeps each alias as a pointer to its anchor, and sums the expanded size
// without expanding anything.
package yamlalias

import (
	"bytes"
	"fmt"

	yaml "go.yaml.in/yaml/v3"
)

// MaxAddedNodes is how many nodes the aliases of one file may add when
// expanded, beyond the nodes the file writes out.
const MaxAddedNodes = 10000

// Error is a file whose aliases expand beyond MaxAddedNodes, or that holds
// an alias to an anchor that contains it.
type Error struct {
	// Line is the 1-based line of the alias at fault.
	Line int
	// Cycle is set for an alias inside its own anchor.
	Cycle bool
}

// Error names the line of the alias at fault and why it is refused.
func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason()) }

// Reason is the message of e without its line, for callers that place it
// themselves.
func (e *Error) Reason() string {
	if e.Cycle {
		return "YAML alias refers to an anchor that contains it"
	}
	return fmt.Sprintf("YAML aliases expand to more than %d nodes beyond the file's own", MaxAddedNodes)
}

// Check returns an *Error when the aliases of the YAML stream data would
// expand it by more than MaxAddedNodes nodes, and nil otherwise: also when
// data is not YAML, which is for the caller's own parser to report. Data
// without an alias indicator ('*') is not parsed at all.
func Check(data []byte) error {
	_, err := Added(data)
	return err
}

// Added is how many nodes the aliases of the YAML stream data add when
// expanded: zero when it holds no alias, or is not YAML. It fails as
// Check does.
func Added(data []byte) (int, error) {
	if bytes.IndexByte(data, '*') < 0 {
		return 0, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	c := &counter{sizes: map[*yaml.Node]int{}}
	for {
		var doc yaml.Node
		// The stream ends with io.EOF; any other error is not YAML.
		if dec.Decode(&doc) != nil {
			return c.added, nil
		}
		if _, err := c.size(&doc); err != nil {
			return 0, err
		}
	}
}

// counter sizes the documents of one file.
type counter struct {
	// sizes memoises the expanded size of each node, so that an anchor is
	// sized once however many aliases name it; inProgress marks the nodes
	// being sized, which an alias inside them may not name.
	sizes map[*yaml.Node]int
	// added is how many nodes the aliases sized so far add.
	added int
}

// inProgress marks a node being sized in counter.sizes.
const inProgress = -1

// size returns the expanded size of n. Each node of the tree is visited
// once (anchors are memoised), so each alias adds its anchor's expanded
// size once to the total.
func (c *counter) size(n *yaml.Node) (int, error) {
	switch s, ok := c.sizes[n]; {
	case ok && s == inProgress:
		return 0, &Error{Line: n.Line, Cycle: true}
	case ok:
		return s, nil
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		if s, ok := c.sizes[n.Alias]; ok && s == inProgress {
			return 0, &Error{Line: n.Line, Cycle: true}
		}
		s, err := c.size(n.Alias)
		if err != nil {
			return 0, err
		}
		if c.added += s; c.added > MaxAddedNodes {
			return 0, &Error{Line: n.Line}
		}
		return s, nil
	}
	c.sizes[n] = inProgress
	s := 1
	for _, child := range n.Content {
		cs, err := c.size(child)
		if err != nil {
			return 0, err
		}
		s += cs
	}
	c.sizes[n] = s
	return s, nil
}
