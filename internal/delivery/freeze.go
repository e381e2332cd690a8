package delivery

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
)

// routerObject names the object in Git whose spec a running rollout's
// router edits; ok is false when the router edits nothing from Git (no
// router, or SMI's TrafficSplit, which weir owns).
func routerObject(ro *v1alpha1.Rollout) (gk schema.GroupKind, name string, ok bool) {
	if ro.Spec.Strategy.Canary == nil || ro.Spec.Strategy.Canary.TrafficRouting == nil {
		return gk, "", false
	}
	tr := ro.Spec.Strategy.Canary.TrafficRouting
	switch {
	case tr.GatewayAPI != nil:
		return schema.GroupKind{Group: "gateway.networking.k8s.io", Kind: "HTTPRoute"}, tr.GatewayAPI.HTTPRoute, true
	case tr.Istio != nil:
		return schema.GroupKind{Group: "networking.istio.io", Kind: "VirtualService"}, tr.Istio.VirtualService, true
	case tr.NGINX != nil:
		return schema.GroupKind{Group: "networking.k8s.io", Kind: "Ingress"}, tr.NGINX.Ingress, true
	}
	return gk, "", false
}

// freezeRouter gives the router object of ro in objs its live spec, so
// that a sync while the rollout runs leaves the weights where the rollout
// put them. An object not live yet is left as Git has it.
func freezeRouter(ctx context.Context, r client.Reader, ro *v1alpha1.Rollout, objs []*unstructured.Unstructured) error {
	gk, name, ok := routerObject(ro)
	if !ok {
		return nil
	}
	obj := find(objs, gk, ro.Namespace, name)
	if obj == nil {
		return nil
	}
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(obj.GroupVersionKind())
	if err := r.Get(ctx, client.ObjectKeyFromObject(obj), live); err != nil {
		return client.IgnoreNotFound(err)
	}
	spec, found, err := unstructured.NestedMap(live.Object, "spec")
	if err != nil || !found {
		return err
	}
	return unstructured.SetNestedMap(obj.Object, spec, "spec")
}

// keepNarrowed gives the blue/green Services of ro in objs the selector
// keys weir narrowed them with (the serving pods' pod-template-hash on the
// active Service, the preview role on the preview Service): a Service's
// selector is replaced whole by an apply, so Git's would widen them again.
func keepNarrowed(ctx context.Context, r client.Reader, ro *v1alpha1.Rollout, objs []*unstructured.Unstructured) error {
	bg := ro.Spec.Strategy.BlueGreen
	if bg == nil {
		return nil
	}
	for name, key := range map[string]string{bg.ActiveService: appsv1.DefaultDeploymentUniqueLabelKey, bg.PreviewService: v1alpha1.RoleLabel} {
		obj := find(objs, schema.GroupKind{Kind: "Service"}, ro.Namespace, name)
		if obj == nil {
			continue
		}
		live := &corev1.Service{}
		if err := r.Get(ctx, client.ObjectKeyFromObject(obj), live); err != nil {
			if client.IgnoreNotFound(err) != nil {
				return err
			}
			continue
		}
		if value, ok := live.Spec.Selector[key]; ok {
			if err := unstructured.SetNestedField(obj.Object, value, "spec", "selector", key); err != nil {
				return err
			}
		}
	}
	return nil
}
