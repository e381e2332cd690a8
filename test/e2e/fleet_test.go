package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/controller"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// fleetTemplate is a template whose Applications sync path of the
// repository at url into the namespace ns, checking every second.
func fleetTemplate(name, url, ref, path, ns string) weirv1.ApplicationTemplate {
	spec := map[string]any{
		"source":      map[string]any{"url": url, "path": path, "ref": map[string]any{"tag": ref}},
		"destination": map[string]any{"namespace": ns},
		"sync":        map[string]any{"interval": "1s", "timeout": "20s"},
	}
	if ref == "" {
		delete(spec["source"].(map[string]any), "ref")
	}
	raw, _ := json.Marshal(spec)
	return weirv1.ApplicationTemplate{Metadata: weirv1.ApplicationTemplateMeta{Name: name}, Spec: apiextensionsv1.JSON{Raw: raw}}
}

// createSet creates an ApplicationSet in the story's namespace that runs
// its generators every second.
func (s *story) createSet(name string, spec weirv1.ApplicationSetSpec) *weirv1.ApplicationSet {
	s.t.Helper()
	spec.Interval = &metav1.Duration{Duration: time.Second}
	set := &weirv1.ApplicationSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns}, Spec: spec}
	if err := s.c.Create(context.Background(), set); err != nil {
		s.t.Fatalf("create ApplicationSet %s: %v", name, err)
	}
	return set
}

// editSet changes the set's spec.
func (s *story) editSet(set *weirv1.ApplicationSet, edit func(*weirv1.ApplicationSetSpec)) {
	s.t.Helper()
	testenv.Eventually(s.t, 10*time.Second, "edit ApplicationSet "+set.Name, func(ctx context.Context) error {
		if err := s.c.Get(ctx, client.ObjectKeyFromObject(set), set); err != nil {
			return err
		}
		edit(&set.Spec)
		return s.c.Update(ctx, set)
	})
}

// thenApplications waits until the set owns exactly the named
// Applications, each Ready at sha when sha is set.
func (s *story) thenApplications(set *weirv1.ApplicationSet, sha string, names ...string) []weirv1.Application {
	s.t.Helper()
	var list weirv1.ApplicationList
	testenv.Eventually(s.t, time.Minute, fmt.Sprintf("Applications %v of %s", names, set.Name), func(ctx context.Context) error {
		if err := s.c.List(ctx, &list, client.InNamespace(s.ns), client.MatchingLabels{weirv1.ApplicationSetLabel: set.Name}); err != nil {
			return err
		}
		var got []string
		for _, app := range list.Items {
			got = append(got, app.Name)
			if sha != "" && (!strings.HasSuffix(app.Status.LastAppliedRevision, sha) || !apimeta.IsStatusConditionTrue(app.Status.Conditions, weirv1.ReadyCondition)) {
				return fmt.Errorf("Application %s at %q: %v", app.Name, app.Status.LastAppliedRevision, conditionSummary(&app))
			}
		}
		if !slices.Equal(got, names) {
			return fmt.Errorf("Applications %v", got)
		}
		return nil
	})
	return list.Items
}

// thenSetCondition waits until the set's Ready condition has reason and
// a message holding text.
func (s *story) thenSetCondition(set *weirv1.ApplicationSet, reason, text string) *weirv1.ApplicationSet {
	s.t.Helper()
	got := &weirv1.ApplicationSet{}
	testenv.Eventually(s.t, time.Minute, fmt.Sprintf("ApplicationSet %s %s", set.Name, reason), func(ctx context.Context) error {
		if err := s.c.Get(ctx, client.ObjectKeyFromObject(set), got); err != nil {
			return err
		}
		c := apimeta.FindStatusCondition(got.Status.Conditions, weirv1.ReadyCondition)
		if c == nil || c.Reason != reason || !strings.Contains(c.Message, text) {
			return fmt.Errorf("Ready %+v, waves %+v", c, got.Status.Waves)
		}
		return nil
	})
	return got
}

// A Git-directory generator served over HTTP makes an Application per
// directory of apps/, and adds and deletes them as directories come and
// go; a list generator beside it does the same as its elements change,
// and keeps the Application of a removed element when told to.
func TestGeneratorsAddAndRemoveApplications(t *testing.T) {
	s := given(t, nil)
	first := s.commit("two apps", map[string]string{
		"apps/web/cm.yaml": fixture.ConfigMap("web", "v", "1"),
		"apps/api/cm.yaml": fixture.ConfigMap("api", "v", "1"),
		"envs/dev/cm.yaml": fixture.ConfigMap("dev", "v", "1"), "envs/prod/cm.yaml": fixture.ConfigMap("prod", "v", "1"),
		"envs/staging/cm.yaml": fixture.ConfigMap("staging", "v", "1"),
	})
	url := testenv.NewGitHTTPServer(t, filepath.Dir(s.repo.Dir), "", "", false).URL(filepath.Base(s.repo.Dir))
	dirs := s.createSet("dirs", weirv1.ApplicationSetSpec{
		Generators: []weirv1.Generator{{Git: &weirv1.GitGenerator{URL: url, Directories: []string{"apps/*"}}}},
		Template:   fleetTemplate("{{path.basename}}", url, "", "{{path}}", s.ns),
	})
	s.thenApplications(dirs, first, "api", "web")

	second := s.commit("db in, api out", map[string]string{
		"apps/db/cm.yaml":  fixture.ConfigMap("db", "v", "1"),
		"apps/api/cm.yaml": "",
	})
	s.thenApplications(dirs, second, "db", "web")
	s.thenSetCondition(dirs, "Succeeded", "2 Applications")

	list := s.createSet("envs", weirv1.ApplicationSetSpec{
		Generators: []weirv1.Generator{{List: &weirv1.ListGenerator{Elements: []map[string]string{{"env": "dev"}, {"env": "prod"}}}}},
		Template:   fleetTemplate("shop-{{env}}", s.repo.URL(), "", "envs/{{env}}", s.ns),
	})
	s.thenApplications(list, second, "shop-dev", "shop-prod")
	s.editSet(list, func(spec *weirv1.ApplicationSetSpec) {
		spec.Generators[0].List.Elements = []map[string]string{{"env": "dev"}, {"env": "staging"}}
	})
	s.thenApplications(list, second, "shop-dev", "shop-staging")
	s.absent(&weirv1.Application{}, "shop-prod")

	s.editSet(list, func(spec *weirv1.ApplicationSetSpec) {
		spec.PreserveApplications = true
		spec.Generators[0].List.Elements = []map[string]string{{"env": "dev"}}
	})
	s.thenApplications(list, "", "shop-dev")
	var kept weirv1.Application
	s.get(&kept, "shop-staging")
	if len(kept.OwnerReferences) != 0 || kept.DeletionTimestamp != nil {
		t.Errorf("the preserved Application has owners %v, deletion %v", kept.OwnerReferences, kept.DeletionTimestamp)
	}
}

// A template that uses a parameter an element lacks makes no Application
// and says which element and which field.
func TestATemplateErrorNamesTheElementAndTheField(t *testing.T) {
	s := given(t, map[string]string{"apps/web/cm.yaml": fixture.ConfigMap("web", "v", "1")})
	set := s.createSet("envs", weirv1.ApplicationSetSpec{
		Generators: []weirv1.Generator{{List: &weirv1.ListGenerator{Elements: []map[string]string{{"env": "dev", "path": "apps/web"}, {"env": "prod"}}}}},
		Template:   fleetTemplate("shop-{{env}}", s.repo.URL(), "", "{{path}}", s.ns),
	})
	got := s.thenSetCondition(set, "TemplateFailed",
		`list element 1 of spec.generators[0]: template field spec.source.path: no parameter "path"`)
	if !apimeta.IsStatusConditionTrue(got.Status.Conditions, weirv1.StalledCondition) {
		t.Errorf("conditions %v: want Stalled", got.Status.Conditions)
	}
	var apps weirv1.ApplicationList
	if err := s.c.List(context.Background(), &apps, client.InNamespace(s.ns)); err != nil || len(apps.Items) != 0 {
		t.Errorf("Applications %d (%v), want none", len(apps.Items), err)
	}
}

// A clusters generator lists Secrets as its set's ServiceAccount, never as
// weir: without one it fails naming the field; with one that may not list
// Secrets, with the API server's refusal; once the ServiceAccount may, it
// makes the Applications.
func TestAClustersGeneratorListsSecretsAsItsServiceAccount(t *testing.T) {
	s := given(t, map[string]string{"cm.yaml": fixture.ConfigMap("web", "v", "1")})
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "eu-1", Namespace: s.ns, Labels: map[string]string{"weir.dev/cluster": "true"}},
		Data: map[string][]byte{"value": []byte("apiVersion: v1\nkind: Config\n")}}
	if err := s.c.Create(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	set := s.createSet("fleet", weirv1.ApplicationSetSpec{
		Generators: []weirv1.Generator{{Clusters: &weirv1.ClustersGenerator{Selector: metav1.LabelSelector{MatchLabels: map[string]string{"weir.dev/cluster": "true"}}}}},
		Template:   fleetTemplate("{{cluster.name}}-web", s.repo.URL(), "", "", s.ns),
	})
	s.thenSetCondition(set, controller.ReasonGeneratorFailed, "spec.generators[0]: clusters: lists Secrets as the set's ServiceAccount, and neither spec.serviceAccountName")

	s.editSet(set, func(spec *weirv1.ApplicationSetSpec) { spec.ServiceAccountName = "fleet-lister" })
	s.thenSetCondition(set, controller.ReasonGeneratorFailed,
		fmt.Sprintf(`list cluster Secrets as ServiceAccount %s/fleet-lister: secrets is forbidden: User "system:serviceaccount:%s:fleet-lister" cannot list resource "secrets"`, s.ns, s.ns))

	testenv.Grant(t, s.ns, "fleet-lister", testenv.ListSecrets)
	s.thenApplications(set, "", "eu-1-web")
	s.thenSetCondition(set, controller.ReasonSucceeded, "1 Applications")
}

// A matrix of the cluster Secrets carrying a label and the directories of
// a repository makes one Application per cluster and directory, named and
// labelled from the Secrets' names and labels.
func TestAMatrixOfClustersAndDirectories(t *testing.T) {
	s := given(t, nil)
	testenv.Grant(t, s.ns, "fleet-lister", testenv.ListSecrets)
	sha := s.commit("two apps", map[string]string{
		"apps/web/cm.yaml": fixture.ConfigMap("web", "v", "1"),
		"apps/api/cm.yaml": fixture.ConfigMap("api", "v", "1"),
	})
	// Each cluster stands for a namespace of this one.
	euNS, usNS := testenv.Namespace(t), testenv.Namespace(t)
	for name, labels := range map[string]map[string]string{
		"eu-1":  {"weir.dev/cluster": "true", "region": "europe", "namespace": euNS},
		"us-1":  {"weir.dev/cluster": "true", "region": "america", "namespace": usNS},
		"other": {"region": "nowhere"},
	} {
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns, Labels: labels},
			Data: map[string][]byte{"value": []byte("apiVersion: v1\nkind: Config\n")}}
		if err := s.c.Create(context.Background(), secret); err != nil {
			t.Fatal(err)
		}
	}
	tmpl := fleetTemplate("{{cluster.name}}-{{path.basename}}", s.repo.URL(), "", "{{path}}", "{{cluster.labels.namespace}}")
	tmpl.Metadata.Labels = map[string]string{"region": "{{cluster.labels.region}}"}
	set := s.createSet("fleet", weirv1.ApplicationSetSpec{
		Generators: []weirv1.Generator{{Matrix: &weirv1.MatrixGenerator{Generators: []weirv1.MatrixElementGenerator{
			{Clusters: &weirv1.ClustersGenerator{Selector: metav1.LabelSelector{MatchLabels: map[string]string{"weir.dev/cluster": "true"}}}},
			{Git: &weirv1.GitGenerator{URL: s.repo.URL(), Directories: []string{"apps/*"}}},
		}}}},
		Template:           tmpl,
		ServiceAccountName: "fleet-lister",
	})
	apps := s.thenApplications(set, sha, "eu-1-api", "eu-1-web", "us-1-api", "us-1-web")
	for _, app := range apps {
		want := map[string]string{"eu-1-api": "europe", "eu-1-web": "europe", "us-1-api": "america", "us-1-web": "america"}[app.Name]
		if app.Labels["region"] != want || !metav1.IsControlledBy(&app, set) {
			t.Errorf("Application %s: labels %v, owners %v", app.Name, app.Labels, app.OwnerReferences)
		}
	}

	var us corev1.Secret
	s.get(&us, "us-1")
	delete(us.Labels, "weir.dev/cluster")
	if err := s.c.Update(context.Background(), &us); err != nil {
		t.Fatal(err)
	}
	s.thenApplications(set, sha, "eu-1-api", "eu-1-web")
}

// A new tag in the template reaches the canary wave first and the eu wave
// once the canary is Ready and Healthy with it; the tag breaks eu, so the
// rollout stops there, says why, and the us wave keeps the old tag.
func TestAChangeRollsOutWaveByWaveAndStopsAtAFailedWave(t *testing.T) {
	s := given(t, nil)
	files := map[string]string{}
	for _, env := range []string{"canary", "eu", "us"} {
		files["envs/"+env+"/cm.yaml"] = fixture.ConfigMap("shop-"+env, "version", "1")
	}
	v1 := s.commit("version 1", files)
	s.repo.Git("tag", "v1")
	for _, env := range []string{"canary", "us"} {
		files["envs/"+env+"/cm.yaml"] = fixture.ConfigMap("shop-"+env, "version", "2")
	}
	files["envs/eu/cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop-eu\ndata:\n  version: [2]\n"
	v2 := s.commit("version 2, broken in eu", files)
	s.repo.Git("tag", "v2")

	set := s.createSet("shop", weirv1.ApplicationSetSpec{
		Generators: []weirv1.Generator{{List: &weirv1.ListGenerator{Elements: []map[string]string{
			{"env": "canary", "wave": "canary"}, {"env": "eu", "wave": "europe"}, {"env": "us", "wave": "america"},
		}}}},
		Template: fleetTemplate("shop-{{env}}", s.repo.URL(), "v1", "envs/{{env}}", s.ns),
		Rollout:  &weirv1.ApplicationSetRollout{WaveParameter: "wave", Waves: []string{"canary", "europe", "america"}},
	})
	s.thenApplications(set, v1, "shop-canary", "shop-eu", "shop-us")
	s.thenSetCondition(set, "Succeeded", "3 Applications")

	s.editSet(set, func(spec *weirv1.ApplicationSetSpec) {
		spec.Template = fleetTemplate("shop-{{env}}", s.repo.URL(), "v2", "envs/{{env}}", s.ns)
	})
	testenv.Eventually(t, time.Minute, "shop-eu given v2", func(ctx context.Context) error {
		eu := &weirv1.Application{}
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: "shop-eu"}, eu); err != nil {
			return err
		}
		if eu.Spec.Source.Ref.Tag != "v2" {
			return fmt.Errorf("shop-eu tracks tag %q", eu.Spec.Source.Ref.Tag)
		}
		canary := &weirv1.Application{}
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: "shop-canary"}, canary); err != nil {
			return err
		}
		if !strings.HasSuffix(canary.Status.LastAppliedRevision, v2) || !apimeta.IsStatusConditionTrue(canary.Status.Conditions, weirv1.HealthyCondition) {
			t.Errorf("shop-eu was given v2 before shop-canary was Healthy at it: %q %v", canary.Status.LastAppliedRevision, conditionSummary(canary))
		}
		return nil
	})
	got := s.thenSetCondition(set, "RolloutFailed", `The rollout stopped in wave "europe": Application shop-eu: `)
	want := []string{"canary=Complete", "europe=Failed", "america=Pending"}
	var phases []string
	for _, w := range got.Status.Waves {
		phases = append(phases, w.Name+"="+w.Phase)
	}
	if !slices.Equal(phases, want) {
		t.Errorf("waves %+v, want %v", got.Status.Waves, want)
	}
	time.Sleep(3 * time.Second) // a few more runs of the set
	us := &weirv1.Application{}
	s.get(us, "shop-us")
	if us.Spec.Source.Ref.Tag != "v1" || !strings.HasSuffix(us.Status.LastAppliedRevision, v1) {
		t.Errorf("shop-us tracks tag %q at %q, want v1 held back", us.Spec.Source.Ref.Tag, us.Status.LastAppliedRevision)
	}
}

// A Git-files generator makes an Application per file and changes it when
// its file does; a file that is no longer YAML fails the generator, named,
// and no Application is changed or deleted while it does.
func TestAGitFilesGeneratorFollowsItsFilesAndAFailureDeletesNothing(t *testing.T) {
	s := given(t, nil)
	first := s.commit("two envs", map[string]string{
		"apps/web/cm.yaml": fixture.ConfigMap("web", "v", "1"), "apps/api/cm.yaml": fixture.ConfigMap("api", "v", "1"),
		"envs/dev.yaml": "env: dev\napp: {dir: apps/web}\n", "envs/prod.yaml": "env: prod\napp: {dir: apps/api}\n",
	})
	set := s.createSet("envs", weirv1.ApplicationSetSpec{
		Generators: []weirv1.Generator{{Git: &weirv1.GitGenerator{URL: s.repo.URL(), Files: []string{"envs/*.yaml"}}}},
		Template:   fleetTemplate("shop-{{env}}", s.repo.URL(), "", "{{app.dir}}", s.ns),
	})
	s.thenApplications(set, first, "shop-dev", "shop-prod")

	second := s.commit("dev runs db", map[string]string{"envs/dev.yaml": "env: dev\napp: {dir: apps/db}\n", "apps/db/cm.yaml": fixture.ConfigMap("db", "v", "1")})
	apps := s.thenApplications(set, second, "shop-dev", "shop-prod")
	if apps[0].Spec.Source.Path != "apps/db" {
		t.Errorf("shop-dev syncs %q, want apps/db", apps[0].Spec.Source.Path)
	}

	third := s.commit("a broken file", map[string]string{"envs/prod.yaml": "env: [prod\n"})
	s.thenSetCondition(set, "GeneratorFailed", "spec.generators[0]: revision main@sha1:")
	got := s.thenSetCondition(set, "GeneratorFailed", "file envs/prod.yaml: ")
	time.Sleep(2 * time.Second) // two more runs of the generators
	s.thenApplications(set, third, "shop-dev", "shop-prod")
	if c := apimeta.FindStatusCondition(got.Status.Conditions, weirv1.StalledCondition); c != nil && c.Status == metav1.ConditionTrue {
		t.Errorf("a generator that may work at its next run is Stalled: %+v", c)
	}
}
