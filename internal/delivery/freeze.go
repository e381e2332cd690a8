package delivery

import (
	"context"

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
