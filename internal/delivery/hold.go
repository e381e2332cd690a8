package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
)

// DryRunner returns what a server-side apply of an object would produce.
type DryRunner interface {
	DryRun(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error)
}

// Holder decides, for a sync, which pod templates are held back from the
// stable Deployments and released through a Rollout instead.
type Holder struct {
	// Reader reads live Deployments and Rollouts; it should read the API
	// server, not a cache, so that a sync sees the Driver's last step.
	Reader client.Reader
	// Writer creates and removes the canary and preview copies.
	Writer client.Client
	// DryRun gives Git's Deployments as the API server would default them,
	// so that their templates compare with the live ones.
	DryRun DryRunner
}

// Release is a template a sync holds back, to release through a copy.
type Release struct {
	// Rollout that releases it.
	Rollout types.NamespacedName
	// Hash of Git's template (TemplateHash).
	Hash string
	// Revision that brought it, and PreviousRevision, the one applied
	// before.
	Revision, PreviousRevision string
	// Quarantined: the template failed before and is not released again.
	Quarantined bool

	desired *appsv1.Deployment
}

// Plan is what a Holder decided for one sync.
type Plan struct {
	// Releases are the templates held back.
	Releases []Release
	// Promoting is true when a Rollout waits for this sync to give the
	// stable Deployment its new template.
	Promoting bool
	// Wanted maps every Rollout of the set to the hash of Git's template
	// of its target ("" when the target is not in the set or not live
	// yet): the copies of other templates are obsolete.
	Wanted map[types.NamespacedName]string
	// Progress is where each Rollout of the set stands, for the
	// Application's status.
	Progress []v1alpha1.RolloutProgress
}

// Hold edits objs, the normalized objects of revision, in place: the
// Deployment of each Rollout whose template changed keeps its live template
// and replicas, and the router object of a running rollout keeps its live
// spec. Each Rollout is annotated with app ("namespace/name"). previous is
// the revision the Application applied last.
func (h *Holder) Hold(ctx context.Context, app types.NamespacedName, objs []*unstructured.Unstructured, revision, previous string) (Plan, error) {
	plan := Plan{Wanted: map[types.NamespacedName]string{}}
	for _, obj := range objs {
		if !IsRollout(obj) {
			continue
		}
		annotate(obj, v1alpha1.ApplicationAnnotation, app.String())
		ro, err := rolloutOf(obj)
		if err != nil {
			return plan, err
		}
		if err := h.holdOne(ctx, &plan, ro, objs, revision, previous); err != nil {
			return plan, fmt.Errorf("Rollout %s/%s: %w", ro.Namespace, ro.Name, err)
		}
	}
	return plan, nil
}

// holdOne decides for one Rollout, as rendered.
func (h *Holder) holdOne(ctx context.Context, plan *Plan, ro *v1alpha1.Rollout, objs []*unstructured.Unstructured, revision, previous string) error {
	key := client.ObjectKeyFromObject(ro)
	live, err := h.liveRollout(ctx, key)
	if err != nil {
		return err
	}
	progress := ProgressOf(live)
	progress.Name, progress.Namespace = key.Name, key.Namespace
	defer func() { plan.Progress = append(plan.Progress, progress) }()
	plan.Wanted[key] = ""
	target := find(objs, appsv1.SchemeGroupVersion.WithKind("Deployment").GroupKind(), ro.Namespace, ro.Spec.TargetRef.Name)
	if target == nil {
		progress.Message = fmt.Sprintf("its target, Deployment %s/%s, is not in the Application", ro.Namespace, ro.Spec.TargetRef.Name)
		return nil
	}
	stable := &appsv1.Deployment{}
	if err := h.Reader.Get(ctx, types.NamespacedName{Namespace: ro.Namespace, Name: ro.Spec.TargetRef.Name}, stable); err != nil {
		// A Deployment not created yet gets Git's template at once.
		return client.IgnoreNotFound(err)
	}
	desired, err := h.dryRun(ctx, target)
	if err != nil {
		return err
	}
	hash := TemplateHash(&desired.Spec.Template)
	plan.Wanted[key] = hash
	if running(live.Status.Phase) {
		if err := freezeRouter(ctx, h.Reader, ro, objs); err != nil {
			return err
		}
	}
	if err := keepNarrowed(ctx, h.Reader, ro, objs); err != nil {
		return err
	}
	switch {
	case hash == TemplateHash(&stable.Spec.Template):
		return nil
	case promotes(live, hash):
		plan.Promoting = true
		return nil
	}
	if err := keepLive(target, stable); err != nil {
		return err
	}
	rel := Release{Rollout: key, Hash: hash, Revision: revision, PreviousRevision: previous, desired: desired}
	if f := failed(&live.Status, hash); f != nil {
		rel.Quarantined = true
		progress.Message = fmt.Sprintf("the template of revision %s failed and is held back: %s", f.Revision, f.Reason)
	}
	progress.Held = true
	plan.Releases = append(plan.Releases, rel)
	return nil
}

// promotes reports whether live lets a sync give its stable Deployment the
// template hash: when it is promoting that template and, with a router,
// the canary serves all the traffic, so that the stable Service, which
// follows the stable Deployment's new pods as they come, is sent none
// while they are not Ready.
func promotes(live *v1alpha1.Rollout, hash string) bool {
	s := &live.Status
	return s.Phase == v1alpha1.RolloutPromoting && s.CanaryHash == hash && (!routed(live) || s.CanaryWeight == 100)
}

// liveRollout reads a Rollout; one not applied yet has an empty status.
func (h *Holder) liveRollout(ctx context.Context, key types.NamespacedName) (*v1alpha1.Rollout, error) {
	ro := &v1alpha1.Rollout{}
	err := h.Reader.Get(ctx, key, ro)
	if apierrors.IsNotFound(err) {
		return ro, nil
	}
	return ro, err
}

// dryRun returns Git's Deployment as the server would make it.
func (h *Holder) dryRun(ctx context.Context, target *unstructured.Unstructured) (*appsv1.Deployment, error) {
	u, err := h.DryRun.DryRun(ctx, target)
	if err != nil {
		return nil, fmt.Errorf("dry-run Deployment %s/%s: %w", target.GetNamespace(), target.GetName(), err)
	}
	return deploymentOf(u)
}

// keepLive makes target, Git's Deployment, keep the live template and
// replicas of stable. Replicas that a rollout scaled (weir's update owns
// them now) are left out of the apply, which then leaves them alone: a
// value read a moment ago could undo a step taken since.
func keepLive(target *unstructured.Unstructured, stable *appsv1.Deployment) error {
	tmpl, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&stable.Spec.Template)
	if err != nil {
		return err
	}
	if err := unstructured.SetNestedField(target.Object, tmpl, "spec", "template"); err != nil {
		return err
	}
	if stable.Spec.Replicas == nil || !appliesReplicas(stable) {
		unstructured.RemoveNestedField(target.Object, "spec", "replicas")
		return nil
	}
	return unstructured.SetNestedField(target.Object, int64(*stable.Spec.Replicas), "spec", "replicas")
}

// appliesReplicas reports whether weir's apply owns a Deployment's
// spec.replicas.
func appliesReplicas(d *appsv1.Deployment) bool {
	for _, e := range d.ManagedFields {
		if e.Manager != FieldManager || e.Operation != metav1.ManagedFieldsOperationApply || e.Subresource != "" || e.FieldsV1 == nil {
			continue
		}
		var fields struct {
			Spec map[string]json.RawMessage `json:"f:spec"`
		}
		if json.Unmarshal(e.FieldsV1.Raw, &fields) == nil && fields.Spec["f:replicas"] != nil {
			return true
		}
	}
	return false
}

// running reports whether a rollout in phase p has traffic to steer.
func running(p v1alpha1.RolloutPhase) bool {
	return p == v1alpha1.RolloutProgressing || p == v1alpha1.RolloutPaused || p == v1alpha1.RolloutPromoting
}

// failed returns the quarantine record of hash, or nil.
func failed(s *v1alpha1.RolloutStatus, hash string) *v1alpha1.FailedRevision {
	i := slices.IndexFunc(s.FailedRevisions, func(f v1alpha1.FailedRevision) bool { return f.TemplateHash == hash })
	if i < 0 {
		return nil
	}
	return &s.FailedRevisions[i]
}

// ProgressOf summarizes a live Rollout for its Application's
// status.rollouts.
func ProgressOf(ro *v1alpha1.Rollout) v1alpha1.RolloutProgress {
	p := v1alpha1.RolloutProgress{
		Name: ro.Name, Namespace: ro.Namespace, Phase: ro.Status.Phase,
		Step: ro.Status.CurrentStep, Weight: ro.Status.CanaryWeight, Message: ro.Status.Message,
	}
	if n := len(ro.Status.FailedRevisions); n > 0 {
		f := ro.Status.FailedRevisions[n-1]
		p.LastFailure = fmt.Sprintf("revision %s failed: %s", f.Revision, f.Reason)
		if r := f.RevertSummary(); r != "" {
			p.LastFailure += "; " + r
		}
	}
	return p
}

// find returns the object of a kind, namespace and name in objs, or nil.
func find(objs []*unstructured.Unstructured, gk schema.GroupKind, namespace, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GroupVersionKind().GroupKind() == gk && o.GetNamespace() == namespace && o.GetName() == name {
			return o
		}
	}
	return nil
}

// annotate sets one annotation on obj.
func annotate(obj *unstructured.Unstructured, key, value string) {
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[key] = value
	obj.SetAnnotations(a)
}

// IsRollout reports whether obj is a Rollout.
func IsRollout(obj *unstructured.Unstructured) bool {
	return obj.GroupVersionKind().GroupKind() == v1alpha1.RolloutKind.GroupKind()
}
