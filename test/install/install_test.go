package install

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/internal/testenv"
)

// TestInstall applies config/default with kubectl and finds weir installed
// as the README describes: its objects there, the controller's Deployment
// configured for leader election, health probes and a read-only root, and
// Available.
func TestInstall(t *testing.T) {
	install(t)
	c := testenv.Client(t)
	ctx := testenv.Context(t, time.Minute)

	for _, obj := range []client.Object{
		&corev1.Namespace{ObjectMeta: meta("", systemNamespace)},
		&corev1.ServiceAccount{ObjectMeta: meta(systemNamespace, "weir")},
		&rbacv1.ClusterRole{ObjectMeta: meta("", "weir-controller")},
		&rbacv1.ClusterRoleBinding{ObjectMeta: meta("", "weir-controller")},
		&rbacv1.Role{ObjectMeta: meta(systemNamespace, "weir-leader-election")},
		&rbacv1.RoleBinding{ObjectMeta: meta(systemNamespace, "weir-leader-election")},
		&rbacv1.ClusterRoleBinding{ObjectMeta: meta("", "weir-apply")},
		&corev1.Service{ObjectMeta: meta(systemNamespace, "weir-controller-metrics")},
		&corev1.Service{ObjectMeta: meta(systemNamespace, "weir-webhook")},
	} {
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Errorf("%T %s: %v", obj, client.ObjectKeyFromObject(obj), err)
		}
	}

	apply := &rbacv1.ClusterRole{}
	if err := c.Get(ctx, client.ObjectKey{Name: "weir-apply"}, apply); err != nil {
		t.Fatal(err)
	}
	if apply.AggregationRule == nil || len(apply.Rules) != 0 {
		t.Errorf("ClusterRole weir-apply: want an aggregation rule and no rules as installed, got %+v", apply)
	}

	dep := &appsv1.Deployment{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: systemNamespace, Name: "weir-controller"}, dep); err != nil {
		t.Fatal(err)
	}
	checkControllerPod(t, dep.Spec.Template.Spec)
	testenv.Eventually(t, time.Minute, "Deployment weir-controller Available", func(ctx context.Context) error {
		return available(ctx, c, dep)
	})
}

// meta names an object.
func meta(namespace, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: namespace, Name: name}
}

// checkControllerPod checks what makes the controller's pod fit for
// production: leader election, probes, a read-only root with a writable
// Git cache, non-root, bounded resources.
func checkControllerPod(t *testing.T, pod corev1.PodSpec) {
	t.Helper()
	if pod.ServiceAccountName != "weir" {
		t.Errorf("serviceAccountName = %q, want weir", pod.ServiceAccountName)
	}
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Errorf("pod securityContext %+v: want runAsNonRoot", pod.SecurityContext)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(pod.Containers))
	}
	ctr := pod.Containers[0]
	for _, arg := range []string{"controller", "--leader-elect", "--leader-election-namespace=weir-system", "--cache-dir=/var/cache/weir"} {
		if !slices.Contains(ctr.Args, arg) {
			t.Errorf("args %q lack %q", ctr.Args, arg)
		}
	}
	for name, probe := range map[string]*corev1.Probe{"/healthz": ctr.LivenessProbe, "/readyz": ctr.ReadinessProbe} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != name || probe.HTTPGet.Port.String() != "healthz" {
			t.Errorf("probe %s: got %+v", name, probe)
		}
	}
	wantPorts := map[string]int32{"http-metrics": 8080, "healthz": 8081, "http-webhook": 9292}
	for _, p := range ctr.Ports {
		if wantPorts[p.Name] == p.ContainerPort {
			delete(wantPorts, p.Name)
		}
	}
	if len(wantPorts) > 0 {
		t.Errorf("ports %+v lack %v", ctr.Ports, wantPorts)
	}
	if sc := ctr.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("container securityContext %+v: want readOnlyRootFilesystem", sc)
	}
	if !slices.ContainsFunc(ctr.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == "/var/cache/weir" }) {
		t.Errorf("volumeMounts %+v: want one at the cache dir /var/cache/weir", ctr.VolumeMounts)
	}
	if ctr.Resources.Requests.Memory().IsZero() || ctr.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %+v: want memory requests and limits", ctr.Resources)
	}
}

// available passes once every replica of the Deployment is available.
func available(ctx context.Context, c client.Client, dep *appsv1.Deployment) error {
	if err := c.Get(ctx, client.ObjectKeyFromObject(dep), dep); err != nil {
		return err
	}
	want := *dep.Spec.Replicas
	if dep.Status.AvailableReplicas != want {
		return fmt.Errorf("%d of %d replicas available", dep.Status.AvailableReplicas, want)
	}
	return nil
}
