// Package render is weir's render stage: it turns a directory of a checked-out
// Git tree into the Kubernetes objects to apply.
//
// Render reads one directory in one of three ways:
//
//   - plain: every .yaml, .yml and .json file below the directory, in path
//     order, each split into its documents; a `kind: List` is expanded into
//     its items. Hidden files and directories (.git, .github, ...) and
//     kustomization files are skipped.
//   - kustomize: the directory's kustomization is built in-process with
//     kustomize's krusty, with plugins, remote bases and Helm charts
//     disabled.
//   - helm: a Helm chart, in the directory or below it, or packaged in an
//     archive pulled from a chart repository, rendered in-process with the
//     Helm SDK as `helm template` renders it: the install action in
//     client-only dry-run mode, with the target cluster's version and API
//     versions. Values files come from the checkout. Dependencies are read
//     from the chart's charts/ directory, never downloaded. CRDs from crds/
//     come first; NOTES.txt is dropped; pre- and post-install and upgrade
//     hooks are objects with their helm.sh/hook annotations, which the
//     apply stage runs as PreSync and PostSync hooks, and test, delete and
//     rollback hooks are left out. Nothing is installed: there is no
//     release Secret.
//
// With TypeAuto the directory decides: kustomize if it holds a
// kustomization file, plain otherwise.
//
// With a Decrypter in Options, every file is passed through it as it is
// read, before it is decoded or kustomize sees it; the files a kustomize
// secretGenerator reads are marked as such. An object that still carries
// SOPS metadata (a top-level sops field) fails the render, so that an
// encrypted Secret never reaches the cluster as ciphertext.
//
// YAML is read as kubectl reads it (sigs.k8s.io/yaml, YAML 1.1), except that
// a key repeated in a mapping is an error rather than silently overwritten.
// Kustomize's output goes through the same decoder, so both renderers yield
// the same values for the same text. A file whose YAML aliases would expand
// it by more than yamlalias.MaxAddedNodes nodes is refused as it is read,
// before kustomize, Helm or SOPS could expand them. Every object needs
// apiVersion, kind and metadata.name (metadata.generateName alone is
// refused: objects are applied by name), and two objects with the same
// group, kind, namespace and name fail the render. A render that produces
// no object fails, naming the files plain rendering skipped and why,
// unless Options.AllowEmpty.
//
// The checkout is untrusted input. Nothing outside the checkout root is
// read: the path may not climb out of it, and a symlink whose target lies
// outside the root is refused, naming the link; so is a chart's file or a
// values file that leads out. Files are bounded in size, renders in object
// count, output bytes and time, and, when Options ask, in the bytes of all
// files read together (MaxInputBytes) and to files without YAML aliases
// (NoAliases). Errors name the file, and the line where one is
// known, relative to the root:
//
//	render apps/web.yaml:12: mapping values are not allowed in this context
package render
