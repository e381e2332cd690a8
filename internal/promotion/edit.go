package promotion

import (
	"fmt"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/gitwrite"
	"weir.dev/weir/internal/imagewrite"
	"weir.dev/weir/internal/valuewrite"
)

// editors apply each of their Editors to a file in turn.
type editors []gitwrite.Editor

// Edit returns the file as every editor leaves it, and whether one
// changed it.
func (es editors) Edit(path string, content []byte) ([]byte, bool, error) {
	changed := false
	for _, e := range es {
		out, ok, err := e.Edit(path, content)
		if err != nil {
			return nil, false, err
		}
		if ok {
			content, changed = out, true
		}
	}
	return content, changed, nil
}

// editorFor writes what from runs, its images and its values, into the
// files of app, the next stage's first Application.
func editorFor(p *weirv1.Pipeline, from *stage, app *weirv1.Application) (gitwrite.Editor, error) {
	var es editors
	if len(p.Spec.Images) > 0 {
		images := make([]imagewrite.Image, len(p.Spec.Images))
		for i, img := range p.Spec.Images {
			images[i] = imagewrite.Image{Namespace: p.Namespace, Name: img.Name, Repository: img.Repository, Tag: tags(from.Images)[i]}
		}
		es = append(es, imagewrite.Editor{Images: images})
	}
	for i, f := range from.files {
		for _, v := range f.values {
			if v.Node == nil {
				return nil, fmt.Errorf("stage %s: %s: %s: %w to promote", from.Name, f.file, v.Path, valuewrite.ErrNotFound)
			}
		}
		file, err := stageFile(app, p.Spec.Values[i].File)
		if err != nil {
			return nil, err
		}
		es = append(es, valuewrite.Editor{File: file, Values: f.values})
	}
	return es, nil
}
