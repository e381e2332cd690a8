package delivery

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"weir.dev/weir/api/v1alpha1"
)

// Roles of the copies and Services weir adds for a Rollout.
const (
	RoleCanary  = "canary"
	RolePreview = "preview"
	RoleStable  = "stable"
)

// TemplateHash identifies a pod template: equal templates, as the API
// server returns them, have equal hashes.
func TemplateHash(t *corev1.PodTemplateSpec) string {
	data, err := json.Marshal(t)
	if err != nil {
		panic(err) // a typed PodTemplateSpec always marshals
	}
	h := fnv.New64a()
	h.Write(data)
	return fmt.Sprintf("%016x", h.Sum64())[:10]
}

// role is the copy a strategy releases into: "canary" or "preview".
func role(ro *v1alpha1.Rollout) string {
	if ro.Spec.Strategy.BlueGreen != nil {
		return RolePreview
	}
	return RoleCanary
}

// CopyName is the name of the Deployment that releases a Rollout's new
// template: "<target>-canary", or "<target>-preview" for blue/green.
func CopyName(ro *v1alpha1.Rollout) string {
	return ro.Spec.TargetRef.Name + "-" + role(ro)
}

// deploymentOf converts an unstructured Deployment to its type.
func deploymentOf(u *unstructured.Unstructured) (*appsv1.Deployment, error) {
	d := &appsv1.Deployment{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, d); err != nil {
		return nil, fmt.Errorf("read Deployment %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	return d, nil
}

// rolloutOf converts an unstructured Rollout to its type.
func rolloutOf(u *unstructured.Unstructured) (*v1alpha1.Rollout, error) {
	ro := &v1alpha1.Rollout{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, ro); err != nil {
		return nil, fmt.Errorf("read Rollout %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	return ro, nil
}

// newCopy is the canary or preview Deployment of a release: the desired
// Deployment's spec with no replicas yet, its pods labelled with the role
// (which its selector adds), owned by the Rollout.
func newCopy(ro *v1alpha1.Rollout, desired *appsv1.Deployment, rel Release) *appsv1.Deployment {
	r := role(ro)
	d := &appsv1.Deployment{}
	d.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind("Deployment"))
	d.Namespace, d.Name = ro.Namespace, CopyName(ro)
	d.Labels = map[string]string{v1alpha1.RolloutLabel: ro.Name, v1alpha1.RoleLabel: r}
	d.Annotations = map[string]string{
		v1alpha1.TemplateHashAnnotation:     rel.Hash,
		v1alpha1.RevisionAnnotation:         rel.Revision,
		v1alpha1.PreviousRevisionAnnotation: rel.PreviousRevision,
		ReplicasAnnotation:                  strconv.Itoa(int(replicasOf(desired))),
	}
	d.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(ro, v1alpha1.RolloutKind)}
	d.Spec = *desired.Spec.DeepCopy()
	d.Spec.Replicas = new(int32)
	d.Spec.Selector = withRole(desired.Spec.Selector, r)
	d.Spec.Template.Labels = maps.Clone(d.Spec.Template.Labels)
	if d.Spec.Template.Labels == nil {
		d.Spec.Template.Labels = map[string]string{}
	}
	d.Spec.Template.Labels[v1alpha1.RoleLabel] = r
	return d
}

// withRole is selector narrowed to the pods of one role.
func withRole(selector *metav1.LabelSelector, r string) *metav1.LabelSelector {
	s := selector.DeepCopy()
	if s == nil {
		s = &metav1.LabelSelector{}
	}
	s.MatchLabels = maps.Clone(s.MatchLabels)
	if s.MatchLabels == nil {
		s.MatchLabels = map[string]string{}
	}
	s.MatchLabels[v1alpha1.RoleLabel] = r
	return s
}

// replicasOf is a Deployment's spec.replicas, 1 when unset.
func replicasOf(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}
