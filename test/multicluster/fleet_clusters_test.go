package multicluster

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// An ApplicationSet's clusters generator over the labelled cluster Secrets
// deploys one Application to each remote cluster, into a namespace named
// as the set's, and none to a cluster whose Secret lacks the label.
func TestAClusterGeneratorDeploysToEachCluster(t *testing.T) {
	ns := testenv.Namespace(t)
	c := testenv.Client(t, weirv1.AddToScheme)
	repo := testenv.NewGitRepo(t)
	repo.Write("shop/cm.yaml", fixture.ConfigMap("shop", "greeting", "hello"))
	repo.Commit("shop")
	for i := range remoteClusters {
		registerCluster(t, ns, fmt.Sprintf("remote-%d", i), testenv.Remote(t, i), map[string]string{"weir.dev/fleet": "shop"})
		remote, remoteNS := remoteClient(t, testenv.Remote(t, i)), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
		if err := remote.Create(t.Context(), remoteNS); err != nil {
			t.Fatalf("create namespace %s on remote %d: %v", ns, i, err)
		}
		t.Cleanup(func() { _ = remote.Delete(context.Background(), remoteNS) })
	}
	registerCluster(t, ns, "unlabelled", testenv.Remote(t, 0), nil)

	spec, _ := json.Marshal(map[string]any{
		"source": map[string]any{"url": repo.URL(), "path": "shop"},
		"destination": map[string]any{"namespace": ns,
			"cluster": map[string]any{"secretRef": map[string]any{"name": "{{cluster.name}}"}}},
		"sync": map[string]any{"interval": "1s", "timeout": "20s"},
	})
	set := &weirv1.ApplicationSet{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec: weirv1.ApplicationSetSpec{
			Generators: []weirv1.Generator{{Clusters: &weirv1.ClustersGenerator{
				Selector: metav1.LabelSelector{MatchLabels: map[string]string{"weir.dev/fleet": "shop"}}}}},
			Template: weirv1.ApplicationTemplate{
				Metadata: weirv1.ApplicationTemplateMeta{Name: "shop-{{cluster.name}}"},
				Spec:     apiextensionsv1.JSON{Raw: spec},
			},
			Interval:           &metav1.Duration{Duration: time.Second},
			ServiceAccountName: "fleet",
		},
	}
	testenv.Grant(t, ns, "fleet", testenv.ListSecrets)
	if err := c.Create(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	for i := range remoteClusters {
		remote := remoteClient(t, testenv.Remote(t, i))
		testenv.Eventually(t, 2*time.Minute, fmt.Sprintf("ConfigMap shop on remote %d", i), func(ctx context.Context) error {
			var cm corev1.ConfigMap
			if err := remote.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop"}, &cm); err != nil {
				return fmt.Errorf("%w; Applications: %s", err, applicationsOf(ctx, c, ns))
			}
			return nil
		})
	}
	var apps weirv1.ApplicationList
	if err := c.List(t.Context(), &apps, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(apps.Items) != remoteClusters {
		t.Errorf("%d Applications, want one per labelled cluster: %s", len(apps.Items), applicationsOf(t.Context(), c, ns))
	}
}

// applicationsOf lists the Applications of ns with their Ready condition.
func applicationsOf(ctx context.Context, c client.Client, ns string) string {
	var apps weirv1.ApplicationList
	if err := c.List(ctx, &apps, client.InNamespace(ns)); err != nil {
		return err.Error()
	}
	out := ""
	for _, app := range apps.Items {
		out += app.Name + ": "
		for _, cond := range app.Status.Conditions {
			if cond.Type == weirv1.ReadyCondition {
				out += string(cond.Status) + " " + cond.Reason + " " + cond.Message
			}
		}
		out += "; "
	}
	return out
}
