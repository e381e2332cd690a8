package traffic_test

import (
	"context"
	"errors"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/delivery/traffic"
)

// A canary step moves traffic with whatever router the Rollout names, and
// an abort sends it all back to stable.
func ExampleNew() {
	var (
		ctx context.Context
		c   client.Client
		ro  *v1alpha1.Rollout // read from the cluster
	)
	router, err := traffic.New(c, ro, traffic.Sides{
		Namespace:     ro.Namespace,
		StableService: "web-stable", CanaryService: "web-canary",
		StableDeployment: "web", CanaryDeployment: "web-canary",
		Replicas: 4,
	})
	if err != nil {
		return
	}
	if err := router.Check(ctx); err != nil {
		return // a condition on the Rollout says why
	}
	_ = router.SetWeight(ctx, 25)
	err = router.SetHeaderRoute(ctx, &v1alpha1.HeaderRoute{Matches: []v1alpha1.RequestMatch{{Header: "X-Canary", Value: "yes"}}})
	if errors.Is(err, traffic.ErrUnsupported) {
		return // the step cannot run with this router
	}
	_ = router.Reset(ctx)
}
