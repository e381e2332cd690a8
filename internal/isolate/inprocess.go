package isolate

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/weir/internal/decrypt"
	"weir.dev/weir/internal/render"
)

// MaxInProcessBytes bounds the plain manifests that Render decodes in the
// calling process rather than in a worker.
const MaxInProcessBytes = 256 << 10

// renderInProcess renders path in this process when it is plain manifests
// of at most MaxInProcessBytes together, none holding a YAML alias or
// SOPS metadata, with no SOPS keys to decrypt them with; it reports false,
// having rendered nothing that counts, for any other render. Such a render
// is bounded by what it reads: no template, no kustomize build, no alias
// that names a long string thousands of times, no SOPS parser; it decodes
// in milliseconds and stops between files when its time is up. A worker
// would add only its start (about 90 ms).
func renderInProcess(ctx context.Context, root, path string, opts render.Options, dec *decrypt.Decryptor) ([]*unstructured.Unstructured, bool, error) {
	if dec == nil || dec.Keys() != nil || !plain(root, path, opts.Type) {
		return nil, false, nil
	}
	here := opts
	here.Type, here.Decrypter, here.NoAliases = render.TypePlain, noSOPS{}, true
	ownBound := opts.MaxInputBytes <= 0 || opts.MaxInputBytes > MaxInProcessBytes
	if ownBound {
		here.MaxInputBytes = MaxInProcessBytes
	}
	objs, err := renderRecovered(ctx, root, path, here)
	if errors.Is(err, render.ErrInputTooLarge) && ownBound || errors.Is(err, render.ErrAlias) && !opts.NoAliases || errors.Is(err, errSOPS) {
		return nil, false, nil
	}
	return objs, true, err
}

// noSOPS is the Decrypter of an in-process render: it passes every file
// through as it is, but fails one that may be SOPS-encrypted with errSOPS,
// which sends the render to a worker, where SOPS parses it.
type noSOPS struct{}

// errSOPS is a file that may be SOPS-encrypted, met in process.
var errSOPS = errors.New("the file may be SOPS-encrypted")

func (noSOPS) Decrypt(name string, data []byte, _ bool) ([]byte, error) {
	if decrypt.Marked(name, data) {
		return nil, errSOPS
	}
	return data, nil
}

// plain reports whether a render of typ renders path as plain manifests.
func plain(root, path, typ string) bool {
	if typ == render.TypeAuto {
		detected, err := render.Detect(root, path)
		return err == nil && detected == render.TypePlain
	}
	return typ == render.TypePlain
}

// renderRecovered is render.Render, with a panic, which a worker would
// have died of, turned into the render's error.
func renderRecovered(ctx context.Context, root, path string, opts render.Options) (objs []*unstructured.Unstructured, err error) {
	defer func() {
		if r := recover(); r != nil {
			objs, err = nil, fmt.Errorf("render %s: the render failed", displayPath(path))
		}
	}()
	return render.Render(ctx, root, path, opts)
}
