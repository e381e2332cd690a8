package apply

import (
	"context"
	"fmt"

	"github.com/pmezard/go-difflib/difflib"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"weir.dev/weir/api/v1alpha1"
)

// ObjectDiff is how one object in the cluster would change if applied.
type ObjectDiff struct {
	// Object the diff is about.
	Object v1alpha1.ObjectRef
	// Action Apply would report: Created, Configured or Unchanged.
	Action Action
	// Diff is a unified diff from the live object to the applied one, as
	// YAML without server bookkeeping; "" when they are equal.
	Diff string
}

// Diff returns, for each object, a unified diff of the live object against
// what a server-side apply would make of it (a dry-run), both as YAML
// without managedFields, resourceVersion, uid, generation,
// creationTimestamp and status. An object that does not exist is diffed
// against nothing; an object whose kind or namespace is not there yet
// (it arrives with the set), or that Apply deletes and creates anew, is
// shown as rendered; one that exists and that Apply only ever creates
// (Flux's "ssa: IfNotPresent") is Unchanged. Fields that kubectl, Argo CD
// or Flux applied and Git no longer holds show as removed, as the apply
// that takes them over removes them (see Options.TakeOverManagers). Secret
// values never appear: each is replaced by "***", or "*** (changed)" on
// the applied side when it differs from the live value.
func (m *Manager) Diff(ctx context.Context, objs []*unstructured.Unstructured) ([]ObjectDiff, error) {
	return eachObject(m, "diff", objs, func(obj *unstructured.Unstructured) (ObjectDiff, error) {
		return m.diffOne(ctx, obj)
	})
}

func (m *Manager) diffOne(ctx context.Context, obj *unstructured.Unstructured) (ObjectDiff, error) {
	ref := Ref(obj)
	live, applied, err := m.liveAndApplied(ctx, obj)
	if err != nil {
		return ObjectDiff{}, err
	}
	before, after := withoutNoise(live), withoutNoise(applied)
	if isSecret(obj) {
		maskSecrets(before, after)
	}
	from, err := toYAML(before)
	if err != nil {
		return ObjectDiff{}, err
	}
	to, err := toYAML(after)
	if err != nil {
		return ObjectDiff{}, err
	}
	d := ObjectDiff{Object: ref, Action: Configured}
	switch {
	case live == nil:
		d.Action = Created
	case from == to:
		d.Action = Unchanged
		return d, nil
	}
	d.Diff, err = difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        lines(from),
		B:        lines(to),
		FromFile: "live " + ref.String(),
		ToFile:   "applied " + ref.String(),
		Context:  3,
	})
	return d, err
}

// liveAndApplied returns the live object (nil when absent) and what an
// apply would make of obj: the live object itself when Apply leaves it as
// it is (see Directives.ifExists).
func (m *Manager) liveAndApplied(ctx context.Context, obj *unstructured.Unstructured) (live, applied *unstructured.Unstructured, err error) {
	res, err := m.resource(ctx, Ref(obj))
	if meta.IsNoMatchError(err) {
		return nil, m.applyConfiguration(obj), nil // its CRD is in the set, not yet applied
	}
	if err != nil {
		return nil, nil, err
	}
	d, _ := ReadDirectives(obj)
	if d.ifExists() == updateExisting {
		live, applied, err = m.readAndDryRun(ctx, res, obj)
	} else {
		if live, err = get(ctx, res, obj.GetName()); err != nil {
			return nil, nil, err
		}
		if live != nil && d.ifExists() == keepExisting {
			return live, live, nil
		}
		if live != nil {
			return live, m.applyConfiguration(obj), nil // recreateExisting
		}
		applied, err = res.Apply(ctx, obj.GetName(), m.applyConfiguration(obj), m.applyOptions(true))
	}
	err = asImmutable(err)
	if live != nil && d.Replace && isImmutable(err) {
		return live, m.applyConfiguration(obj), nil // deleted and created anew
	}
	if live == nil && apierrors.IsNotFound(err) {
		return nil, m.applyConfiguration(obj), nil // its namespace is in the set, not yet applied
	}
	if err != nil {
		return nil, nil, fmt.Errorf("dry-run: %w", err)
	}
	if live != nil {
		err = afterTakeOver(live, applied, m.opts.TakeOverManagers)
	}
	return live, applied, err
}

// readAndDryRun reads obj's live object and dry-runs its apply at once:
// for an object applied over whatever exists, the dry run needs nothing
// of the read, and a drift check, which heals wait on, takes one round
// trip rather than two. It fails when the read does, and otherwise
// returns the dry run's error.
func (m *Manager) readAndDryRun(ctx context.Context, res dynamic.ResourceInterface, obj *unstructured.Unstructured) (live, applied *unstructured.Unstructured, err error) {
	var readErr error
	read := make(chan struct{})
	go func() {
		defer close(read)
		live, readErr = get(ctx, res, obj.GetName())
	}()
	applied, err = res.Apply(ctx, obj.GetName(), m.applyConfiguration(obj), m.applyOptions(true))
	<-read
	if readErr != nil {
		return nil, nil, readErr
	}
	return live, applied, err
}

// withoutNoise returns a copy of obj's content without what the server
// keeps for itself; nil for a nil obj.
func withoutNoise(obj *unstructured.Unstructured) map[string]any {
	if obj == nil {
		return nil
	}
	content := obj.DeepCopy().Object
	delete(content, "status")
	for _, field := range serverFields {
		unstructured.RemoveNestedField(content, "metadata", field)
	}
	return content
}

// lines splits text for difflib; no text is no lines, not one empty line.
func lines(text string) []string {
	if text == "" {
		return nil
	}
	return difflib.SplitLines(text)
}

func toYAML(content map[string]any) (string, error) {
	if content == nil {
		return "", nil
	}
	out, err := yaml.Marshal(content)
	if err != nil {
		return "", fmt.Errorf("marshal to YAML: %w", err)
	}
	return string(out), nil
}
