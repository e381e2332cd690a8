package valuewrite

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/utils"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// MaxShown bounds the length of a value String shows as it is; longer
// values, and values that are not scalars, are shown by digest.
const MaxShown = 64

// Value is the node at a path of a YAML file.
type Value struct {
	// Path of the field, as the package comment says.
	Path string
	// Node is the field's value.
	Node *yaml.Node
}

// String is "path=value" for a short scalar, "path=sha256:<12 hex>" of the
// value as YAML otherwise, and "path unset" for no value: what a
// Pipeline's status shows and compares.
func (v Value) String() string {
	if v.Node == nil {
		return v.Path + " unset"
	}
	if v.Node.Kind == yaml.ScalarNode && len(v.Node.Value) <= MaxShown && !strings.ContainsAny(v.Node.Value, "\n\r") {
		return v.Path + "=" + v.Node.Value
	}
	// JSON, which holds no comments: the same value commented otherwise
	// in another stage's file is the same.
	out, err := yaml.NewRNode(v.Node).MarshalJSON()
	if err != nil {
		out = []byte(v.Node.Value)
	}
	sum := sha256.Sum256(out)
	return v.Path + "=sha256:" + hex.EncodeToString(sum[:6])
}

// ErrNotFound is the cause of the error of a path that names no field.
var ErrNotFound = errors.New("no such field")

// Read returns the values at paths in content, a file of one YAML
// document; a path that names no field has a nil Node. An error names the
// path that cannot be read.
func Read(content []byte, paths []string) ([]Value, error) {
	doc, _, err := parse(content)
	if err != nil {
		return nil, err
	}
	values := make([]Value, len(paths))
	for i, p := range paths {
		n, err := walk(doc, p, false)
		if errors.Is(err, ErrNotFound) {
			values[i] = Value{Path: p}
			continue
		}
		if err != nil {
			return nil, err
		}
		if hasAlias(n.YNode()) {
			return nil, fmt.Errorf("%s: holds a YAML anchor or alias, which is not promoted", p)
		}
		values[i] = Value{Path: p, Node: n.YNode()}
	}
	return values, nil
}

// Set returns content with values written at their paths, creating the
// mappings and list items ([key=value]) a path names that are missing,
// and whether anything changed. A scalar keeps its comments; a mapping or
// list is replaced whole. Content that changes nothing is returned as it
// was, byte for byte. An error names the path that cannot be set.
func Set(content []byte, values []Value) ([]byte, bool, error) {
	doc, rw, err := parse(content)
	if err != nil {
		return nil, false, err
	}
	changed := false
	for _, v := range values {
		if v.Node == nil {
			return nil, false, fmt.Errorf("%s: %w to promote", v.Path, ErrNotFound)
		}
		n, err := walk(doc, v.Path, false)
		if errors.Is(err, ErrNotFound) {
			// A field created is a change, even one set to what a new
			// field holds.
			n, err = walk(doc, v.Path, true)
			changed = changed || err == nil
		}
		if err != nil {
			return nil, false, err
		}
		if assign(n.YNode(), v.Node) {
			changed = true
		}
	}
	if !changed {
		return content, false, nil
	}
	var out bytes.Buffer
	rw.Writer = &out
	if err := rw.Write([]*yaml.RNode{doc}); err != nil {
		return nil, false, fmt.Errorf("write: %w", err)
	}
	return out.Bytes(), true, nil
}

// parse reads content's one document, with the ReadWriter that writes
// it back in the same style.
func parse(content []byte) (*yaml.RNode, *kio.ByteReadWriter, error) {
	rw := &kio.ByteReadWriter{Reader: bytes.NewReader(content), PreserveSeqIndent: true}
	nodes, err := rw.Read()
	switch {
	case err != nil:
		return nil, nil, notMapping(content, err)
	case len(nodes) != 1:
		return nil, nil, fmt.Errorf("holds %d YAML documents, not one", len(nodes))
	}
	return nodes[0], rw, nil
}

// notMapping names the kind of content's first document when it is not
// a mapping, which kio refuses with the document's content in its error;
// otherwise it returns err.
func notMapping(content []byte, err error) error {
	var doc yaml.Node
	if yaml.NewDecoder(bytes.NewReader(content)).Decode(&doc) != nil || len(doc.Content) == 0 {
		return err
	}
	switch doc.Content[0].Kind {
	case yaml.ScalarNode:
		return errors.New("the document is a scalar, not a mapping")
	case yaml.SequenceNode:
		return errors.New("the document is a list, not a mapping")
	}
	return err
}

// walk follows path from doc, creating what is missing when create is
// set, and returns the node it names.
func walk(doc *yaml.RNode, path string, create bool) (*yaml.RNode, error) {
	parts := utils.SmarterPathSplitter(path, ".")
	if path == "" || len(parts) == 0 {
		return nil, errors.New("an empty path")
	}
	n := doc
	for i, part := range parts {
		if part == "" || part == "-" || part == "*" {
			return nil, fmt.Errorf("%s: %q is not a key, an index or [key=value]", path, part)
		}
		getter := yaml.PathGetter{Path: []string{part}}
		if create {
			getter.Create = kindOf(parts[i+1:])
		}
		next, err := n.Pipe(getter)
		if err != nil || next == nil {
			return nil, missing(path, parts[:i+1], n, err)
		}
		n = next
	}
	return n, nil
}

// kindOf is the kind of node a path walks into with rest left to walk.
func kindOf(rest []string) yaml.Kind {
	switch {
	case len(rest) == 0:
		return yaml.ScalarNode
	case yaml.IsListIndex(rest[0]) || rest[0] == "-":
		return yaml.SequenceNode
	}
	if _, err := strconv.Atoi(rest[0]); err == nil {
		return yaml.SequenceNode
	}
	return yaml.MappingNode
}

// missing says why a path stops at n, where parts are what it walked. It
// names the kinds of node rather than wrap kyaml's error, which quotes
// the node's content.
func missing(path string, parts []string, n *yaml.RNode, err error) error {
	at := strings.Join(parts[:len(parts)-1], ".")
	if at == "" {
		at = "the document"
	}
	want := "a mapping"
	if kindOf(parts[len(parts)-1:]) == yaml.SequenceNode {
		want = "a list"
	}
	if err != nil || n.YNode().Kind == yaml.ScalarNode {
		return fmt.Errorf("%s: %s is %s, not %s", path, at, kindName(n.YNode().Kind), want)
	}
	return fmt.Errorf("%s: %w: %s", path, ErrNotFound, strings.Join(parts, "."))
}

// kindName names a kind of YAML node.
func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return "a scalar"
}

// assign sets dst to src's value, keeping dst's comments, and reports
// whether it changed.
func assign(dst, src *yaml.Node) bool {
	if same(dst, src) {
		return false
	}
	dst.Kind, dst.Tag, dst.Style, dst.Value = src.Kind, src.Tag, src.Style, src.Value
	dst.Anchor, dst.Alias = "", nil
	dst.Content = nil
	for _, c := range src.Content {
		dst.Content = append(dst.Content, yaml.CopyYNode(c))
	}
	return true
}

// same reports whether a and b hold the same value, comments aside.
func same(a, b *yaml.Node) bool {
	if a.Kind != b.Kind || a.Value != b.Value || a.ShortTag() != b.ShortTag() || len(a.Content) != len(b.Content) {
		return false
	}
	for i := range a.Content {
		if !same(a.Content[i], b.Content[i]) {
			return false
		}
	}
	return true
}

// hasAlias reports whether n or a node under it is an alias or an anchor.
func hasAlias(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return true
	}
	for _, c := range n.Content {
		if hasAlias(c) {
			return true
		}
	}
	return false
}
