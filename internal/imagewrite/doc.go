// Package imagewrite writes selected image tags into YAML manifests, the
// way Flux's image automation does, so that Git says which image runs:
//
//   - a scalar marked with a line comment
//     `# {"$imagepolicy": "NAMESPACE:NAME"}` is set to the whole image
//     reference (repository:tag), with `...:NAME:tag"}` to the tag alone and
//     with `...:NAME:name"}` to the repository alone;
//   - an entry of a Kustomization's images: list whose newName (or, without
//     newName, name) is the image's repository gets newTag set to the tag.
//
// Files are edited as YAML nodes (sigs.k8s.io/kustomize/kyaml), so that
// comments, key order and the rest of the document are kept.
package imagewrite
