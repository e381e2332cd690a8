package delivery

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/delivery/traffic"
)

// routed reports whether a canary has a traffic router (weights on
// Services) rather than the replica ratio.
func routed(ro *v1alpha1.Rollout) bool {
	return ro.Spec.Strategy.Canary != nil && ro.Spec.Strategy.Canary.TrafficRouting != nil
}

// sides names the stable and canary sides of a canary for its router.
func (w *world) sides() traffic.Sides {
	stable, canary := sideServiceNames(w.ro)
	return traffic.Sides{
		Namespace:     w.ro.Namespace,
		StableService: stable, CanaryService: canary,
		StableDeployment: w.stable.Name, CanaryDeployment: CopyName(w.ro),
		Replicas: w.replicas(),
	}
}

// sideServiceNames are the Services weir writes beside a routed canary's
// Service: "<service>-stable" and "<service>-canary".
func sideServiceNames(ro *v1alpha1.Rollout) (stable, canary string) {
	svc := ro.Spec.Strategy.Canary.Service
	return svc + "-" + RoleStable, svc + "-" + RoleCanary
}

// router returns the canary's traffic router.
func (d *Driver) router(w *world) (traffic.Router, error) {
	return traffic.New(d.Client, w.ro, w.sides())
}

// ensureRouting makes what a strategy routes through ready: for a canary
// with a router the stable and canary Services and the router's object,
// for blue/green the active and preview Services narrowed to their pods.
func (d *Driver) ensureRouting(ctx context.Context, w *world) error {
	if w.ro.Spec.Strategy.BlueGreen != nil {
		return d.ensureBlueGreenServices(ctx, w)
	}
	if routed(w.ro) {
		if err := d.ensureSideServices(ctx, w); err != nil {
			return err
		}
	}
	router, err := d.router(w)
	if err != nil {
		return stall(ReasonRouterNotReady, err)
	}
	if err := router.Check(ctx); err != nil {
		return stall(ReasonRouterNotReady, fmt.Errorf("Rollout %s/%s: %w", w.ro.Namespace, w.ro.Name, err))
	}
	return nil
}

// resetTraffic sends all traffic to the stable Deployment's pods.
func (d *Driver) resetTraffic(ctx context.Context, w *world) error {
	if w.ro.Spec.Strategy.BlueGreen != nil {
		return d.pointActive(ctx, w, w.stable)
	}
	router, err := d.router(w)
	if err != nil {
		return err
	}
	return router.Reset(ctx)
}

// userService reads a Service the Rollout names, stalling when it is
// missing.
func (d *Driver) userService(ctx context.Context, ro *v1alpha1.Rollout, name, field string) (*corev1.Service, error) {
	svc := &corev1.Service{}
	err := d.Client.Get(ctx, types.NamespacedName{Namespace: ro.Namespace, Name: name}, svc)
	if apierrors.IsNotFound(err) {
		return nil, stall(ReasonServiceNotFound, fmt.Errorf("Rollout %s/%s: Service %s/%s named by %s not found", ro.Namespace, ro.Name, ro.Namespace, name, field))
	}
	if err != nil {
		return nil, fmt.Errorf("read Service %s/%s: %w", ro.Namespace, name, err)
	}
	return svc, nil
}

// ensureSideServices writes "<service>-stable", selecting the pods of the
// stable Deployment's current ReplicaSet, and "<service>-canary", selecting
// the canary's pods, each a copy of the Service's ports.
func (d *Driver) ensureSideServices(ctx context.Context, w *world) error {
	svc, err := d.userService(ctx, w.ro, w.ro.Spec.Strategy.Canary.Service, "spec.strategy.canary.service")
	if err != nil {
		return err
	}
	hash, err := d.podTemplateHash(ctx, w.stable)
	if err != nil {
		return err
	}
	if hash == "" {
		return fmt.Errorf("Deployment %s/%s has no ReplicaSet for its template yet: %w", w.stable.Namespace, w.stable.Name, errNotYet)
	}
	sides := w.sides()
	stable := sideService(w.ro, svc, sides.StableService, RoleStable, appsv1.DefaultDeploymentUniqueLabelKey, hash)
	canary := sideService(w.ro, svc, sides.CanaryService, RoleCanary, v1alpha1.RoleLabel, RoleCanary)
	for _, s := range []*corev1.Service{stable, canary} {
		if err := applyObject(ctx, d.Client, s); err != nil {
			return fmt.Errorf("write Service %s/%s: %w", s.Namespace, s.Name, err)
		}
	}
	return nil
}

// sideService is a Service like svc, named name, that selects what svc
// selects and key=value.
func sideService(ro *v1alpha1.Rollout, svc *corev1.Service, name, role, key, value string) *corev1.Service {
	s := &corev1.Service{}
	s.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Service"))
	s.Namespace, s.Name = ro.Namespace, name
	s.Labels = map[string]string{v1alpha1.RolloutLabel: ro.Name, v1alpha1.RoleLabel: role}
	s.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(ro, v1alpha1.RolloutKind)}
	s.Spec.Selector = map[string]string{key: value}
	for k, v := range svc.Spec.Selector {
		s.Spec.Selector[k] = v
	}
	for _, p := range svc.Spec.Ports {
		s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: p.Name, Protocol: p.Protocol, Port: p.Port, TargetPort: p.TargetPort, AppProtocol: p.AppProtocol})
	}
	return s
}

// narrow adds key=value to the selector of a user's Service, as a merge
// patch that a sync of Git's Service leaves in place.
func (d *Driver) narrow(ctx context.Context, svc *corev1.Service, key, value string) error {
	if svc.Spec.Selector[key] == value {
		return nil
	}
	before := svc.DeepCopy()
	if svc.Spec.Selector == nil {
		svc.Spec.Selector = map[string]string{}
	}
	svc.Spec.Selector[key] = value
	if err := d.Client.Patch(ctx, svc, client.MergeFrom(before), client.FieldOwner(FieldManager)); err != nil {
		return fmt.Errorf("narrow the selector of Service %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	return nil
}
