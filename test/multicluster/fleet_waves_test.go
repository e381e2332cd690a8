package multicluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// A new tag reaches the canary cluster first and the prod cluster once the
// canary's Application is released with it; a later tag that breaks the
// canary stops there, and the prod cluster keeps the tag before it.
func TestAChangeRollsOutClusterByClusterAndStopsAtAFailedWave(t *testing.T) {
	ns := testenv.Namespace(t)
	c := testenv.Client(t, weirv1.AddToScheme)
	repo := testenv.NewGitRepo(t)
	release := func(version int, brokenOn string) string {
		for i := range remoteClusters {
			name := fmt.Sprintf("remote-%d", i)
			cm := fixture.ConfigMap("shop", "version", fmt.Sprint(version))
			if name == brokenOn {
				cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop\ndata:\n  version: [broken]\n"
			}
			repo.Write("envs/"+name+"/cm.yaml", cm)
		}
		repo.Commit(fmt.Sprintf("version %d", version))
		tag := fmt.Sprintf("v%d", version)
		repo.Git("tag", tag)
		return tag
	}
	remotes := make([]client.Client, remoteClusters)
	for i, wave := range []string{"canary", "prod"} {
		remotes[i] = remoteClient(t, testenv.Remote(t, i))
		registerCluster(t, ns, fmt.Sprintf("remote-%d", i), testenv.Remote(t, i), map[string]string{"weir.dev/fleet": "waves", "wave": wave})
		remoteNS := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
		if err := remotes[i].Create(t.Context(), remoteNS); err != nil {
			t.Fatalf("create namespace %s on remote %d: %v", ns, i, err)
		}
		t.Cleanup(func() { _ = remotes[i].Delete(context.Background(), remoteNS) })
	}
	template := func(tag string) weirv1.ApplicationTemplate {
		spec, _ := json.Marshal(map[string]any{
			"source": map[string]any{"url": repo.URL(), "path": "envs/{{cluster.name}}", "ref": map[string]any{"tag": tag}},
			"destination": map[string]any{"namespace": ns,
				"cluster": map[string]any{"secretRef": map[string]any{"name": "{{cluster.name}}"}}},
			"sync": map[string]any{"interval": "1s", "timeout": "20s"},
		})
		return weirv1.ApplicationTemplate{Metadata: weirv1.ApplicationTemplateMeta{Name: "shop-{{cluster.name}}"}, Spec: apiextensionsv1.JSON{Raw: spec}}
	}
	set := &weirv1.ApplicationSet{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec: weirv1.ApplicationSetSpec{
			Generators: []weirv1.Generator{{Clusters: &weirv1.ClustersGenerator{
				Selector: metav1.LabelSelector{MatchLabels: map[string]string{"weir.dev/fleet": "waves"}}}}},
			Template:           template(release(1, "")),
			Rollout:            &weirv1.ApplicationSetRollout{WaveParameter: "cluster.labels.wave", Waves: []string{"canary", "prod"}},
			Interval:           &metav1.Duration{Duration: time.Second},
			ServiceAccountName: "fleet",
		},
	}
	testenv.Grant(t, ns, "fleet", testenv.ListSecrets)
	if err := c.Create(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	waitVersion := func(i int, version string) {
		t.Helper()
		testenv.Eventually(t, 2*time.Minute, fmt.Sprintf("version %s on remote %d", version, i), func(ctx context.Context) error {
			var cm corev1.ConfigMap
			if err := remotes[i].Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop"}, &cm); err != nil {
				return fmt.Errorf("%w; Applications: %s", err, applicationsOf(ctx, c, ns))
			}
			if cm.Data["version"] != version {
				return fmt.Errorf("version %q; Applications: %s", cm.Data["version"], applicationsOf(ctx, c, ns))
			}
			return nil
		})
	}
	waitVersion(0, "1")
	waitVersion(1, "1")

	editTemplate := func(tag string) {
		testenv.Eventually(t, 10*time.Second, "edit the set", func(ctx context.Context) error {
			if err := c.Get(ctx, client.ObjectKeyFromObject(set), set); err != nil {
				return err
			}
			set.Spec.Template = template(tag)
			return c.Update(ctx, set)
		})
	}
	editTemplate(release(2, ""))
	waitVersion(1, "2")
	canary := &weirv1.Application{}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "shop-remote-0"}, canary); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(canary.Status.LastAppliedRevision, "v2@") || !apimeta.IsStatusConditionTrue(canary.Status.Conditions, weirv1.HealthyCondition) {
		t.Errorf("prod runs v2, the canary is at %q: %v", canary.Status.LastAppliedRevision, canary.Status.Conditions)
	}

	editTemplate(release(3, "remote-0"))
	testenv.Eventually(t, 2*time.Minute, "the rollout stopped in the canary wave", func(ctx context.Context) error {
		got := &weirv1.ApplicationSet{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(set), got); err != nil {
			return err
		}
		ready := apimeta.FindStatusCondition(got.Status.Conditions, weirv1.ReadyCondition)
		if ready == nil || ready.Reason != "RolloutFailed" || !strings.Contains(ready.Message, `wave "canary": Application shop-remote-0: `) {
			return fmt.Errorf("Ready %+v, waves %+v", ready, got.Status.Waves)
		}
		return nil
	})
	time.Sleep(3 * time.Second) // a few more runs of the set
	waitVersion(1, "2")
	prod := &weirv1.Application{}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "shop-remote-1"}, prod); err != nil {
		t.Fatal(err)
	}
	if prod.Spec.Source.Ref.Tag != "v2" {
		t.Errorf("the prod cluster's Application tracks %q, want v2 held back", prod.Spec.Source.Ref.Tag)
	}
}
