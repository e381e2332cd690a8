package imagewrite

import (
	"bytes"
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Image is an image an ImageUpdate selected: the markers that name
// Namespace/Name get Repository and Tag.
type Image struct {
	Namespace, Name string
	Repository, Tag string
}

// Ref is the image reference, repository:tag.
func (i Image) Ref() string { return i.Repository + ":" + i.Tag }

// value is what a scalar marked with field holds of i.
func (i Image) value(f Field) string {
	switch f {
	case FieldTag:
		return i.Tag
	case FieldName:
		return i.Repository
	}
	return i.Ref()
}

// SetImages returns content with the images written into its marked
// scalars and Kustomization images: entries, and whether anything
// changed. Content that changes nothing is returned as it was, byte for
// byte. Errors say why the YAML does not parse.
func SetImages(content []byte, images []Image) ([]byte, bool, error) {
	if !mayMatch(content, images) {
		return content, false, nil
	}
	rw := &kio.ByteReadWriter{
		Reader:            bytes.NewReader(content),
		PreserveSeqIndent: true,
	}
	nodes, err := rw.Read()
	if err != nil {
		return nil, false, err
	}
	changed := false
	for _, n := range nodes {
		if setMarked(n.YNode(), images) {
			changed = true
		}
		if setKustomizeImages(n, images) {
			changed = true
		}
	}
	if !changed {
		return content, false, nil
	}
	var out bytes.Buffer
	rw.Writer = &out
	if err := rw.Write(nodes); err != nil {
		return nil, false, fmt.Errorf("write: %w", err)
	}
	return out.Bytes(), true, nil
}

// mayMatch tells files that cannot hold a marker or an images: entry of
// images, which are left unparsed.
func mayMatch(content []byte, images []Image) bool {
	if bytes.Contains(content, []byte(markerKey)) {
		return true
	}
	for _, i := range images {
		if bytes.Contains(content, []byte(i.Repository)) && bytes.Contains(content, []byte("images:")) {
			return true
		}
	}
	return false
}

// setMarked sets the scalars under n whose line comment marks one of
// images, and reports whether any changed.
func setMarked(n *yaml.Node, images []Image) bool {
	changed := false
	if n.Kind == yaml.ScalarNode {
		m, ok := ParseMarker(n.LineComment)
		if !ok {
			return false
		}
		for _, i := range images {
			if i.Namespace == m.Namespace && i.Name == m.Name && n.Value != i.value(m.Field) {
				n.Value = i.value(m.Field)
				changed = true
			}
		}
		return changed
	}
	for i, c := range n.Content {
		// Keys of a mapping are never set: only values and items are.
		if n.Kind == yaml.MappingNode && i%2 == 0 {
			continue
		}
		if setMarked(c, images) {
			changed = true
		}
	}
	return changed
}

// setKustomizeImages sets newTag of the images: entries of a
// Kustomization for the repositories of images.
func setKustomizeImages(n *yaml.RNode, images []Image) bool {
	if n.GetKind() != "Kustomization" {
		return false
	}
	list, err := n.Pipe(yaml.Lookup("images"))
	if err != nil || list == nil {
		return false
	}
	entries, err := list.Elements()
	if err != nil {
		return false
	}
	changed := false
	for _, e := range entries {
		repo := e.Field("newName")
		if repo == nil {
			repo = e.Field("name")
		}
		if repo == nil || repo.Value.YNode().Kind != yaml.ScalarNode {
			continue
		}
		for _, i := range images {
			if repo.Value.YNode().Value != i.Repository {
				continue
			}
			if tag := e.Field("newTag"); tag != nil && tag.Value.YNode().Value == i.Tag {
				continue
			}
			if err := e.PipeE(yaml.SetField("newTag", yaml.NewStringRNode(i.Tag))); err == nil {
				changed = true
			}
		}
	}
	return changed
}

// Editor sets images in the YAML files (.yaml, .yml) of a commit, for
// gitwrite.Commit.
type Editor struct {
	Images []Image
}

// Edit sets the images in one file; other files are left as they are.
func (e Editor) Edit(path string, content []byte) ([]byte, bool, error) {
	if !strings.HasSuffix(path, ".yaml") && !strings.HasSuffix(path, ".yml") {
		return content, false, nil
	}
	return SetImages(content, e.Images)
}
