package traffic

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// TestReplicaRouter scales real Deployments, which the local control
// plane's controllers and fake nodes run, through a canary.
func TestReplicaRouter(t *testing.T) {
	f := newFixture(t)
	f.deployment("web", 4)
	f.deployment("web-canary", 0)
	r := f.router(f.rollout(nil), f.sides())
	f.must("Check", r.Check(f.ctx))

	steps := []struct {
		weight         int32
		canary, stable int32
	}{{0, 0, 4}, {25, 1, 3}, {50, 2, 2}, {60, 3, 2}, {100, 4, 0}, {10, 1, 4}}
	for _, s := range steps {
		f.must(fmt.Sprint("SetWeight ", s.weight), r.SetWeight(f.ctx, s.weight))
		f.wantReplicas(fmt.Sprintf("at weight %d", s.weight), s.canary, s.stable)
	}
	f.waitAvailable("web-canary", 1)
	f.waitAvailable("web", 4)

	wantUnsupported(t, "SetHeaderRoute", r.SetHeaderRoute(f.ctx, &v1alpha1.HeaderRoute{Matches: []v1alpha1.RequestMatch{{Header: "x"}}}))
	wantUnsupported(t, "SetMirror", r.SetMirror(f.ctx, 10))
	f.must("SetHeaderRoute(nil)", r.SetHeaderRoute(f.ctx, nil))
	f.must("SetMirror(0)", r.SetMirror(f.ctx, 0))

	f.must("Reset", r.Reset(f.ctx))
	f.wantReplicas("after Reset", 0, 4)
	f.waitAvailable("web-canary", 0)

	missing := f.sides()
	missing.StableDeployment, missing.CanaryDeployment = "nope", "nope-canary"
	noStable := f.router(unsaved(nil), missing)
	wantErr(t, "Check without the stable Deployment", noStable.Check(f.ctx), "Deployment "+f.ns+"/nope not found")
	wantErr(t, "SetWeight without the canary Deployment", noStable.SetWeight(f.ctx, 10), "Deployment "+f.ns+"/nope-canary not found")
}

func (f *fixture) deployment(name string, replicas int32) {
	f.t.Helper()
	labels := map[string]string{"app": "web", "side": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "example.com/web:1"}}},
			},
		},
	}
	f.must("create Deployment "+name, f.c.Create(f.ctx, d))
}

// wantReplicas checks spec.replicas of the canary and stable Deployments.
func (f *fixture) wantReplicas(when string, canary, stable int32) {
	f.t.Helper()
	for name, want := range map[string]int32{"web-canary": canary, "web": stable} {
		d := &appsv1.Deployment{}
		f.must("read "+name, f.c.Get(f.ctx, client.ObjectKey{Namespace: f.ns, Name: name}, d))
		if got := ptr.Deref(d.Spec.Replicas, 1); got != want {
			f.t.Errorf("%s: Deployment %s has %d replicas, want %d", when, name, got, want)
		}
	}
}

// waitAvailable waits until the Deployment runs that many available pods.
func (f *fixture) waitAvailable(name string, replicas int32) {
	f.t.Helper()
	testenv.Eventually(f.t, time.Minute, fmt.Sprintf("Deployment %s has %d available replicas", name, replicas), func(ctx context.Context) error {
		d := &appsv1.Deployment{}
		if err := f.c.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: name}, d); err != nil {
			return err
		}
		if d.Status.ObservedGeneration < d.Generation || d.Status.AvailableReplicas != replicas || d.Status.Replicas != replicas {
			return fmt.Errorf("status %+v", d.Status)
		}
		return nil
	})
}
