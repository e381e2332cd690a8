package render

import (
	"fmt"
	"path"
	"strings"
)

// skippedFile is a file below the rendered directory that plain rendering
// does not read, and why.
type skippedFile struct {
	rel, why string
}

// whySkipped says why plain rendering does not read the file name.
func whySkipped(name string) string {
	switch path.Ext(name) {
	case ".jsonnet", ".libsonnet":
		return "Jsonnet is not supported"
	}
	return "not a manifest (plain rendering reads .yaml, .yml and .json files)"
}

// maxSkippedShown bounds the skipped files an empty render's message names.
const maxSkippedShown = 5

// emptyError is a render of dir, of type typ, that produced no object:
// an error unless the Application allows it, for a mistyped path or a
// format weir does not read would otherwise apply nothing and report
// Ready. It names the files the render skipped and why.
func emptyError(dir target, typ string, read int, skipped []skippedFile) error {
	var why []string
	switch {
	case typ == TypeKustomize:
		why = append(why, "the kustomization produced none")
	case typ == TypeHelm:
		why = append(why, "the chart rendered none")
	case read > 0:
		why = append(why, fmt.Sprintf("the %d manifest files hold none", read))
	case len(skipped) == 0:
		why = append(why, "the directory holds no files")
	}
	for i, s := range skipped {
		if i == maxSkippedShown {
			why = append(why, fmt.Sprintf("%d more files skipped", len(skipped)-i))
			break
		}
		why = append(why, s.rel+" skipped: "+s.why)
	}
	return fmt.Errorf("render %s: no objects to apply: %s; set spec.sync.allowEmpty to apply an empty set", dir.rel, strings.Join(why, "; "))
}
