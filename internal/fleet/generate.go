package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/source"
)

// The clusters generator lists the metadata of the Secrets its selector
// matches, in the set's namespace.
// +kubebuilder:rbac:groups="",resources=secrets,verbs=list

// Fetcher resolves a ref, from refs listed since a time (shared with the
// Applications of the repository), and checks out its commit.
type Fetcher interface {
	FetchSince(ctx context.Context, url string, ref weirv1.GitRef, creds source.Credentials, since time.Time) (source.Artifact, error)
}

// Credentials reads Git credentials from the Secret that ref names in
// namespace; field names the reference in errors.
type Credentials interface {
	GitCredentials(ctx context.Context, namespace string, ref *weirv1.LocalObjectReference, field string) (source.Credentials, error)
}

// SourcePolicies decide whether the set's namespace may read a repository,
// as they decide for its Applications.
type SourcePolicies interface {
	AllowSource(ctx context.Context, namespace string, src weirv1.GitSource) error
}

// Generator runs a set's generators.
type Generator struct {
	// Secrets lists the cluster Secrets' metadata.
	Secrets client.Reader
	// Fetcher checks out the commits Git generators read.
	Fetcher     Fetcher
	Credentials Credentials
	// Policies, when set, must allow each Git generator's repository.
	Policies SourcePolicies
}

// Elements are the elements of every generator of set, in order; Git
// repositories are read from refs listed since since or later. An error
// names the generator (spec.generators[i]) and what failed.
func (g *Generator) Elements(ctx context.Context, set *weirv1.ApplicationSet, since time.Time) ([]Element, error) {
	var out []Element
	for i, gen := range set.Spec.Generators {
		field := fmt.Sprintf("spec.generators[%d]", i)
		child := weirv1.MatrixElementGenerator{List: gen.List, Clusters: gen.Clusters, Git: gen.Git}
		elems, err := g.matrixOr(ctx, set.Namespace, field, child, gen.Matrix, since)
		if err != nil {
			return nil, err
		}
		out = append(out, elems...)
		if len(out) > MaxElements {
			return nil, fmt.Errorf("the generators give more than %d elements", MaxElements)
		}
	}
	return out, nil
}

// matrixOr runs the matrix m, or gen when m is nil.
func (g *Generator) matrixOr(ctx context.Context, namespace, field string, gen weirv1.MatrixElementGenerator, m *weirv1.MatrixGenerator, since time.Time) ([]Element, error) {
	if m == nil {
		return g.run(ctx, namespace, field, gen, since)
	}
	if len(m.Generators) != 2 {
		return nil, fmt.Errorf("%s.matrix: has %d generators, not 2", field, len(m.Generators))
	}
	var sides [2][]Element
	for j, child := range m.Generators {
		var err error
		if sides[j], err = g.run(ctx, namespace, fmt.Sprintf("%s.matrix.generators[%d]", field, j), child, since); err != nil {
			return nil, err
		}
	}
	elems, err := product(sides[0], sides[1])
	if err != nil {
		return nil, fmt.Errorf("%s.matrix: %w", field, err)
	}
	return elems, nil
}

// run runs one generator that is not a matrix.
func (g *Generator) run(ctx context.Context, namespace, field string, gen weirv1.MatrixElementGenerator, since time.Time) ([]Element, error) {
	var elems []Element
	var err error
	switch {
	case gen.List != nil:
		elems, err = listElements(field, gen.List)
	case gen.Clusters != nil:
		elems, err = g.clusters(ctx, namespace, gen.Clusters)
	case gen.Git != nil:
		elems, err = g.git(ctx, namespace, gen.Git, since)
	default:
		err = errors.New("sets no generator")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return elems, nil
}

// clusters lists the Secrets that gen selects.
func (g *Generator) clusters(ctx context.Context, namespace string, gen *weirv1.ClustersGenerator) ([]Element, error) {
	sel, err := metav1.LabelSelectorAsSelector(&gen.Selector)
	if err != nil {
		return nil, fmt.Errorf("clusters.selector: %w", err)
	}
	if sel.Empty() {
		return nil, errors.New("clusters.selector is empty: it would select every Secret")
	}
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	if err := g.Secrets.List(ctx, list, client.InNamespace(namespace), client.MatchingLabelsSelector{Selector: sel}, client.Limit(MaxElements+1)); err != nil {
		return nil, fmt.Errorf("list cluster Secrets: %w", err)
	}
	if len(list.Items) > MaxElements {
		return nil, fmt.Errorf("the selector matches more than %d Secrets", MaxElements)
	}
	metas := make([]metav1.ObjectMeta, len(list.Items))
	for i := range list.Items {
		metas[i] = list.Items[i].ObjectMeta
	}
	return clusterElements(metas)
}

// git checks out the commit gen names and reads its elements.
func (g *Generator) git(ctx context.Context, namespace string, gen *weirv1.GitGenerator, since time.Time) ([]Element, error) {
	src := weirv1.GitSource{URL: gen.URL, Ref: gen.Ref, SecretRef: gen.SecretRef}
	if g.Policies != nil {
		if err := g.Policies.AllowSource(ctx, namespace, src); err != nil {
			return nil, err
		}
	}
	creds, err := g.Credentials.GitCredentials(ctx, namespace, gen.SecretRef, "git.secretRef")
	if err != nil {
		return nil, err
	}
	a, err := g.Fetcher.FetchSince(ctx, gen.URL, gen.Ref, creds, since)
	if err != nil {
		return nil, err
	}
	elems, err := gitElements(a.Dir, gen)
	if err != nil {
		return nil, fmt.Errorf("revision %s: %w", a.Revision, err)
	}
	return elems, nil
}
