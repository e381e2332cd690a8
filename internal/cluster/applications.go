package cluster

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// Applications reads, from weir's cluster, the Applications that sync to
// one cluster, for what acts on that cluster in their name (its
// Rollouts): an Application that syncs to another cluster is NotFound, so
// that a Rollout there cannot borrow the repository or the identity of an
// Application whose inventory names a Rollout of the same namespace and
// name elsewhere.
type Applications struct {
	Reader client.Reader
	// Secret names the kubeconfig Secret of the cluster; the zero value
	// stands for weir's own cluster.
	Secret types.NamespacedName
}

var applicationsResource = weirv1.GroupVersion.WithResource("applications").GroupResource()

// Get reads the Application key into obj, an *Application; one that syncs
// to another cluster is NotFound.
func (a Applications) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	app, ok := obj.(*weirv1.Application)
	if !ok {
		return fmt.Errorf("read %s: the Applications of a cluster are read as Applications, not %T", key, obj)
	}
	if err := a.Reader.Get(ctx, key, app, opts...); err != nil {
		return err
	}
	if !a.targets(app) {
		return fmt.Errorf("Application %s syncs to %s, not to %s: %w",
			key, destinationOf(app), a.describe(), apierrors.NewNotFound(applicationsResource, key.Name))
	}
	return nil
}

// List lists into list, an *ApplicationList, the Applications that sync to
// the cluster.
func (a Applications) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	apps, ok := list.(*weirv1.ApplicationList)
	if !ok {
		return fmt.Errorf("the Applications of a cluster are listed as an ApplicationList, not %T", list)
	}
	if err := a.Reader.List(ctx, apps, opts...); err != nil {
		return err
	}
	kept := apps.Items[:0]
	for _, app := range apps.Items {
		if a.targets(&app) {
			kept = append(kept, app)
		}
	}
	apps.Items = kept
	return nil
}

// targets reports whether app syncs to the cluster.
func (a Applications) targets(app *weirv1.Application) bool {
	key, ok := SecretOf(app)
	if !ok {
		return a.Secret == types.NamespacedName{}
	}
	return key == a.Secret
}

// describe names the cluster.
func (a Applications) describe() string {
	return clusterName(a.Secret, a.Secret != types.NamespacedName{})
}

// destinationOf names the cluster app syncs to.
func destinationOf(app *weirv1.Application) string { return clusterName(SecretOf(app)) }

// clusterName names the remote cluster of Secret key, or weir's own.
func clusterName(key types.NamespacedName, remote bool) string {
	if !remote {
		return "weir's own cluster"
	}
	return "the remote cluster of Secret " + key.String()
}

var _ client.Reader = Applications{}
