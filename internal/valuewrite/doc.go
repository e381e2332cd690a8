// Package valuewrite reads and writes named fields of a YAML file (the
// keys of a Helm values file, the fields of a kustomization) by path, so
// that a Pipeline can carry them from one stage's files to the next's.
//
// A path is keys separated by dots, as kustomize's replacements write
// field paths: "image.tag"; "images.[name=web].newTag" for the item of a
// list whose name is web; "args.0" for a list's first item; and
// "metadata.annotations.[example.com/owner]" for a key that holds dots.
// Files are edited as YAML nodes (sigs.k8s.io/kustomize/kyaml), so that
// comments, key order and the rest of the document are kept.
package valuewrite
