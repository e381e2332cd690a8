package render

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/konfig"
)

// Type values select the renderer; they match v1alpha1.RenderSpec.Type.
const (
	// TypeAuto renders with kustomize when the directory holds a
	// kustomization file, as a Helm chart with its default values when it
	// holds a Chart.yaml (see Detect), and as plain manifests otherwise.
	// Kustomization files are kustomization.yaml, kustomization.yml and
	// Kustomization.
	TypeAuto = ""
	// TypePlain reads every YAML and JSON file below the directory.
	TypePlain = "plain"
	// TypeKustomize builds the directory's kustomization.
	TypeKustomize = "kustomize"
	// TypeHelm renders a Helm chart (see Helm).
	TypeHelm = "helm"
)

// Bounds used when Options leave them zero.
const (
	defaultMaxObjects     = 10000
	defaultMaxFileBytes   = 10 << 20 // 10 MiB
	defaultMaxOutputBytes = 64 << 20 // 64 MiB
	defaultTimeout        = time.Minute
)

// Options tune a render. The zero value renders with auto-detection and the
// default bounds.
type Options struct {
	// Type is TypeAuto, TypePlain, TypeKustomize or TypeHelm; anything
	// else fails.
	Type string
	// Helm says which chart to render, and how, for TypeHelm; nil renders
	// the chart in the directory with its default values.
	Helm *Helm
	// MaxObjects bounds the objects one render may return; zero or less
	// means 10000. A render that would return more fails.
	MaxObjects int
	// MaxFileBytes bounds the size of every file read; zero or less means
	// 10 MiB. A larger file fails the render.
	MaxFileBytes int64
	// MaxInputBytes bounds the bytes of all the files one render reads,
	// together; zero or less means no bound but MaxFileBytes for each. A
	// render that would read more fails with an error that matches
	// ErrInputTooLarge.
	MaxInputBytes int64
	// NoAliases fails a render that reads a file holding a YAML alias,
	// with an error that matches ErrAlias. Aliases count towards nodes,
	// not bytes: a few kilobytes can name a long string thousands of
	// times.
	NoAliases bool
	// MaxOutputBytes bounds the text a template engine may produce (Helm's
	// rendered manifests); zero or less means 64 MiB. Also the bound on
	// the files of a chart together.
	MaxOutputBytes int64
	// Timeout bounds the render; zero or less means one minute.
	Timeout time.Duration
	// Decrypter, when set, receives every file the render reads, to
	// decrypt it. Without one, files are read as they are.
	Decrypter Decrypter
	// AllowEmpty lets a render produce no object. Without it an empty
	// render fails, naming the files it skipped and why.
	AllowEmpty bool
}

// Decrypter decrypts files as the render reads them; package decrypt
// provides one for SOPS.
type Decrypter interface {
	// Decrypt returns the content of the file name, relative to the
	// checkout root, decrypted when it is encrypted and as it is
	// otherwise. secretSource is set for the files a kustomize
	// secretGenerator reads, which become Secret data.
	Decrypt(name string, data []byte, secretSource bool) ([]byte, error)
}

// WithDefaults returns o with its zero bounds filled in, or an error for an
// unknown Type.
func (o Options) WithDefaults() (Options, error) {
	switch o.Type {
	case TypeAuto, TypePlain, TypeKustomize, TypeHelm:
	default:
		return o, fmt.Errorf("render: unknown type %q: want %q, %q, %q or %q",
			o.Type, TypeAuto, TypePlain, TypeKustomize, TypeHelm)
	}
	if o.MaxObjects <= 0 {
		o.MaxObjects = defaultMaxObjects
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = defaultMaxFileBytes
	}
	if o.MaxOutputBytes <= 0 {
		o.MaxOutputBytes = defaultMaxOutputBytes
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	return o, nil
}

// Render reads the directory path inside the checkout root and returns its
// objects. Path is relative and slash-separated; "" and "." mean the root
// itself. A render that produces no object fails unless opts.AllowEmpty.
// The order is deterministic: by file path, then by document order within
// a file (for kustomize, the order kustomize emits).
//
// Render reads nothing outside root: a path that climbs out of it, or a
// symlink that resolves outside it, fails the render. Errors name the file,
// relative to root, and the line when one is known. Render may be called
// concurrently; kustomize builds are serialised internally.
func Render(ctx context.Context, root, path string, opts Options) ([]*unstructured.Unstructured, error) {
	opts, err := opts.WithDefaults()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("render %s: %w", displayPath(path), err)
	}
	co, err := openCheckout(root, opts.MaxFileBytes)
	if err != nil {
		return nil, err
	}
	defer co.close()
	co.decrypter, co.maxInputBytes, co.noAliases = opts.Decrypter, opts.MaxInputBytes, opts.NoAliases
	dir, err := co.dir(path)
	if err != nil {
		return nil, err
	}
	typ := opts.Type
	if typ == TypeAuto {
		typ = detect(dir)
	}
	var objs []*unstructured.Unstructured
	switch typ {
	case TypeKustomize:
		objs, err = renderKustomize(ctx, co, dir, opts.MaxObjects)
	case TypeHelm:
		objs, err = renderHelm(ctx, co, dir, opts)
	default:
		return renderPlain(ctx, co, dir, opts.MaxObjects, opts.AllowEmpty)
	}
	if err == nil && len(objs) == 0 && !opts.AllowEmpty {
		return nil, emptyError(dir, typ, 0, nil)
	}
	return objs, err
}

// Detect says which renderer TypeAuto picks for path below root: kustomize
// when the directory holds a kustomization file, helm when it holds a
// Chart.yaml, plain otherwise. Callers that must prepare a chart's options
// (release, values, the cluster's capabilities) ask it before Render.
func Detect(root, path string) (string, error) {
	co, err := openCheckout(root, defaultMaxFileBytes)
	if err != nil {
		return "", err
	}
	defer co.close()
	dir, err := co.dir(path)
	if err != nil {
		return "", err
	}
	return detect(dir), nil
}

// detect picks the renderer for dir: kustomize if it holds a kustomization,
// helm if it holds a chart.
func detect(dir target) string {
	if kustomizationFile(dir.real) != "" {
		return TypeKustomize
	}
	if _, err := os.Lstat(filepath.Join(dir.real, chartFile)); err == nil {
		return TypeHelm
	}
	return TypePlain
}

// chartFile marks a directory as a Helm chart.
const chartFile = "Chart.yaml"

// kustomizationFile returns the name of the kustomization file in the
// directory real, or "" when it has none.
func kustomizationFile(real string) string {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		if _, err := os.Lstat(filepath.Join(real, name)); err == nil {
			return name
		}
	}
	return ""
}

// isKustomizationFile reports whether a file name is one kustomize reads as a
// kustomization, which is configuration rather than an object.
func isKustomizationFile(name string) bool {
	for _, n := range konfig.RecognizedKustomizationFileNames() {
		if name == n {
			return true
		}
	}
	return false
}
