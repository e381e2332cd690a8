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
	"weir.dev/weir/internal/identity"
	"weir.dev/weir/internal/source"
)

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

// Readers give the clients that act as an identity (identity.Cache).
type Readers interface {
	Get(id identity.Identity) (client.Reader, error)
}

// Generator runs a set's generators.
type Generator struct {
	// Secrets list the cluster Secrets' metadata, as the identity Tenancy
	// says a set acts as: weir itself may not list Secrets.
	Secrets Readers
	Tenancy identity.Policy
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
		elems, err := g.matrixOr(ctx, set, field, child, gen.Matrix, since)
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
func (g *Generator) matrixOr(ctx context.Context, set *weirv1.ApplicationSet, field string, gen weirv1.MatrixElementGenerator, m *weirv1.MatrixGenerator, since time.Time) ([]Element, error) {
	if m == nil {
		return g.run(ctx, set, field, gen, since)
	}
	if len(m.Generators) != 2 {
		return nil, fmt.Errorf("%s.matrix: has %d generators, not 2", field, len(m.Generators))
	}
	var sides [2][]Element
	for j, child := range m.Generators {
		var err error
		if sides[j], err = g.run(ctx, set, fmt.Sprintf("%s.matrix.generators[%d]", field, j), child, since); err != nil {
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
func (g *Generator) run(ctx context.Context, set *weirv1.ApplicationSet, field string, gen weirv1.MatrixElementGenerator, since time.Time) ([]Element, error) {
	var elems []Element
	var err error
	switch {
	case gen.List != nil:
		elems, err = listElements(field, gen.List)
	case gen.Clusters != nil:
		elems, err = g.clusters(ctx, set, gen.Clusters)
	case gen.Git != nil:
		elems, err = g.git(ctx, set.Namespace, gen.Git, since)
	default:
		err = errors.New("sets no generator")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return elems, nil
}

// ErrNoServiceAccount is the error of a clusters generator whose set has
// no ServiceAccount to list Secrets as.
var ErrNoServiceAccount = errors.New("clusters: lists Secrets as the set's ServiceAccount, and neither spec.serviceAccountName nor the controller's --default-service-account names one")

// clusters lists the Secrets that gen selects, as set's ServiceAccount.
func (g *Generator) clusters(ctx context.Context, set *weirv1.ApplicationSet, gen *weirv1.ClustersGenerator) ([]Element, error) {
	sel, err := metav1.LabelSelectorAsSelector(&gen.Selector)
	if err != nil {
		return nil, fmt.Errorf("clusters.selector: %w", err)
	}
	if sel.Empty() {
		return nil, errors.New("clusters.selector is empty: it would select every Secret")
	}
	id := g.Tenancy.ForSet(set)
	if !id.Impersonating() {
		return nil, ErrNoServiceAccount
	}
	secrets, err := g.Secrets.Get(id)
	if err != nil {
		return nil, err
	}
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	if err := secrets.List(ctx, list, client.InNamespace(set.Namespace), client.MatchingLabelsSelector{Selector: sel}, client.Limit(MaxElements+1)); err != nil {
		return nil, fmt.Errorf("list cluster Secrets as %s: %w", id, err)
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
