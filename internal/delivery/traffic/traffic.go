package traffic

import (
	"context"
	"errors"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
)

// FieldManager is the field manager of every write a router makes.
const FieldManager = "weir"

// ErrUnsupported is wrapped by the errors of SetHeaderRoute and SetMirror
// when the router cannot route by header or mirror, or not the way asked.
var ErrUnsupported = errors.New("not supported by this traffic router")

// Router moves a Rollout's traffic between its stable and canary sides.
type Router interface {
	// Check reports, with an error naming the object, why the router
	// cannot work: the object it edits is missing, or does not route to
	// the stable Service.
	Check(ctx context.Context) error
	// SetWeight sends weight percent (0..100) of traffic to the canary.
	// Idempotent.
	SetWeight(ctx context.Context, weight int32) error
	// SetHeaderRoute sends requests matching route to the canary; nil or
	// empty removes it. Returns an error wrapping ErrUnsupported if the
	// router cannot.
	SetHeaderRoute(ctx context.Context, route *v1alpha1.HeaderRoute) error
	// SetMirror copies percent of requests to the canary; 0 removes it.
	// Returns an error wrapping ErrUnsupported if the router cannot.
	SetMirror(ctx context.Context, percent int32) error
	// Reset sends all traffic to stable and removes everything weir added
	// (header routes, mirrors, canary Ingress, the TrafficSplit's canary
	// backend).
	Reset(ctx context.Context) error
}

// Sides names the two sides of a rollout.
type Sides struct {
	// Namespace of the Rollout and of everything below.
	Namespace string
	// StableService and CanaryService select the stable and canary pods:
	// "<svc>-stable" and "<svc>-canary". The delivery package creates them.
	StableService, CanaryService string
	// StableDeployment and CanaryDeployment are "<target>" and
	// "<target>-canary".
	StableDeployment, CanaryDeployment string
	// Replicas is the total desired replicas, from Git's Deployment.
	Replicas int32
}

// New returns the router the Rollout's canary strategy names; without
// trafficRouting, the replica-ratio router.
func New(c client.Client, ro *v1alpha1.Rollout, sides Sides) (Router, error) {
	canary := ro.Spec.Strategy.Canary
	if canary == nil {
		return nil, fmt.Errorf("Rollout %s/%s has no canary strategy, so no traffic router", ro.Namespace, ro.Name)
	}
	if sides.Namespace == "" {
		sides.Namespace = ro.Namespace
	}
	tr := canary.TrafficRouting
	switch {
	case tr == nil:
		return newReplicaRouter(c, sides), nil
	case tr.GatewayAPI != nil:
		return newGatewayRouter(c, tr.GatewayAPI.HTTPRoute, sides), nil
	case tr.Istio != nil:
		return newIstioRouter(c, tr.Istio, sides), nil
	case tr.SMI != nil:
		return newSMIRouter(c, ro, sides), nil
	case tr.NGINX != nil:
		return newNGINXRouter(c, ro, tr.NGINX.Ingress, sides), nil
	}
	return nil, fmt.Errorf("Rollout %s/%s: spec.strategy.canary.trafficRouting names no router", ro.Namespace, ro.Name)
}

// checkWeight refuses a weight outside 0..100.
func checkWeight(weight int32) error {
	if weight < 0 || weight > 100 {
		return fmt.Errorf("canary weight %d is outside 0..100", weight)
	}
	return nil
}

// checkPercent refuses a mirror percentage outside 0..100.
func checkPercent(percent int32) error {
	if percent < 0 || percent > 100 {
		return fmt.Errorf("mirror percentage %d is outside 0..100", percent)
	}
	return nil
}

// emptyRoute reports whether route asks for no header route at all.
func emptyRoute(route *v1alpha1.HeaderRoute) bool {
	return route == nil || len(route.Matches) == 0
}
