package delivery

import (
	"context"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
)

// world is what one Advance sees of a Rollout's workloads.
type world struct {
	ro *v1alpha1.Rollout
	// stable is the target Deployment; copy the canary or preview copy,
	// nil when there is none.
	stable, copy *appsv1.Deployment
}

// observe reads the target Deployment and the Rollout's copy.
func (d *Driver) observe(ctx context.Context, ro *v1alpha1.Rollout) (*world, error) {
	w := &world{ro: ro}
	stable, err := d.deployment(ctx, ro.Namespace, ro.Spec.TargetRef.Name)
	if err != nil {
		return nil, err
	}
	if stable == nil {
		return nil, stall(ReasonTargetNotFound, fmt.Errorf("Rollout %s/%s: its target, Deployment %s/%s, not found", ro.Namespace, ro.Name, ro.Namespace, ro.Spec.TargetRef.Name))
	}
	w.stable = stable
	cp, err := d.deployment(ctx, ro.Namespace, CopyName(ro))
	if err != nil {
		return nil, err
	}
	if cp != nil && cp.Labels[v1alpha1.RolloutLabel] == ro.Name && cp.DeletionTimestamp == nil {
		w.copy = cp
	}
	return w, nil
}

// deployment reads a Deployment, or nil when there is none.
func (d *Driver) deployment(ctx context.Context, namespace, name string) (*appsv1.Deployment, error) {
	dep := &appsv1.Deployment{}
	err := d.Client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, dep)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read Deployment %s/%s: %w", namespace, name, err)
	}
	return dep, nil
}

// stableHash is the hash of the template the stable Deployment runs.
func (w *world) stableHash() string { return TemplateHash(&w.stable.Spec.Template) }

// copyHash is the hash of Git's template that the copy releases.
func (w *world) copyHash() string { return w.copy.Annotations[v1alpha1.TemplateHashAnnotation] }

// replicas is the stable Deployment's size in Git, which the copy records
// (the stable Deployment itself is scaled down by the replica router).
func (w *world) replicas() int32 {
	if w.copy != nil {
		if n, err := strconv.ParseInt(w.copy.Annotations[ReplicasAnnotation], 10, 32); err == nil {
			return int32(n)
		}
	}
	return replicasOf(w.stable)
}

// ReplicasAnnotation on a copy is the replicas of Git's Deployment.
const ReplicasAnnotation = "weir.dev/replicas"

// available reports whether a Deployment runs its current template on all
// of its replicas, each available.
func available(dep *appsv1.Deployment) bool {
	want := replicasOf(dep)
	s := dep.Status
	return s.ObservedGeneration >= dep.Generation && s.UpdatedReplicas == want &&
		s.AvailableReplicas == want && s.Replicas == want
}

// podTemplateHash returns the pod-template-hash label of the ReplicaSet
// that runs dep's current template, or "" when the Deployment controller
// has not made it yet.
func (d *Driver) podTemplateHash(ctx context.Context, dep *appsv1.Deployment) (string, error) {
	selector, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
	if err != nil {
		return "", fmt.Errorf("Deployment %s/%s: spec.selector: %w", dep.Namespace, dep.Name, err)
	}
	list := &appsv1.ReplicaSetList{}
	if err := d.Client.List(ctx, list, client.InNamespace(dep.Namespace), client.MatchingLabelsSelector{Selector: selector}); err != nil {
		return "", fmt.Errorf("list the ReplicaSets of Deployment %s/%s: %w", dep.Namespace, dep.Name, err)
	}
	const revision = "deployment.kubernetes.io/revision"
	for _, rs := range list.Items {
		owner := metav1.GetControllerOf(&rs)
		if owner != nil && owner.UID == dep.UID && rs.Annotations[revision] == dep.Annotations[revision] {
			return rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey], nil
		}
	}
	return "", nil
}

// scale sets a Deployment's spec.replicas; it does nothing when they are
// already so.
func (d *Driver) scale(ctx context.Context, dep *appsv1.Deployment, replicas int32) error {
	if dep.Spec.Replicas != nil && *dep.Spec.Replicas == replicas {
		return nil
	}
	before := dep.DeepCopy()
	dep.Spec.Replicas = &replicas
	if err := d.Client.Patch(ctx, dep, client.MergeFrom(before), client.FieldOwner(FieldManager)); err != nil {
		return fmt.Errorf("scale Deployment %s/%s to %d: %w", dep.Namespace, dep.Name, replicas, err)
	}
	return nil
}
