package install

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/bootstrap"
	"weir.dev/weir/internal/controller"
	"weir.dev/weir/internal/source"
	"weir.dev/weir/internal/testenv"
)

// TestBootstrapKeepsWeirManagedFromGit: `weir bootstrap` commits weir's
// install to a fleet repository behind a real Git HTTP server, with
// credentials, installs weir and the Application that syncs that
// directory; bootstrapping again changes nothing, in Git or in the
// cluster; weir, confined to what the install grants, syncs itself, and a
// commit to the directory upgrades it.
func TestBootstrapKeepsWeirManagedFromGit(t *testing.T) {
	fleet := testenv.NewGitRepo(t)
	fleet.Write("README.md", "The fleet.\n")
	before := fleet.Commit("fleet: the first commit")
	srv := testenv.NewGitHTTPServer(t, filepath.Dir(fleet.Dir), "fleet", "s3cret", false)
	c := testenv.Client(t, weirv1.AddToScheme)
	cleanupBootstrap(t, c)
	opts := bootstrap.Options{
		URL:         srv.URL(filepath.Base(fleet.Dir)),
		Path:        "clusters/dev/weir",
		Credentials: source.Credentials{Username: "fleet", Password: "s3cret"},
		SecretName:  "weir-git",
		Interval:    time.Second,
	}
	first, err := bootstrap.Run(t.Context(), c, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkBootstrapCommit(t, fleet, first, before)
	checkBootstrapObjects(t, c, opts)

	bootstrapChangesNothing(t, c, fleet, opts, first.Commit)

	startController(t, asServiceAccount(testenv.Config(t), systemNamespace, "weir"), controller.Options{})
	app := &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Name: bootstrap.ApplicationName, Namespace: systemNamespace}}
	awaitApplication(t, c, app, readyAt(first.Commit))
	// weir now applies its install too: bootstrapping again still
	// changes nothing.
	bootstrapChangesNothing(t, c, fleet, opts, first.Commit)

	install := filepath.Join("clusters/dev/weir", "weir.yaml")
	upgraded := strings.Replace(fleet.Git("show", "HEAD:"+install), "replicas: 2", "replicas: 3", 1)
	fleet.Write(install, upgraded)
	commit := fleet.Commit("weir: three replicas")
	awaitApplication(t, c, app, readyAt(commit))
	d := &appsv1.Deployment{}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: systemNamespace, Name: "weir-controller"}, d); err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 3 {
		t.Errorf("weir-controller has %d replicas after the commit that gives it 3", *d.Spec.Replicas)
	}
}

// bootstrapChangesNothing bootstraps again and finds the branch still at
// head and every object as it was.
func bootstrapChangesNothing(t *testing.T, c client.Client, fleet *testenv.GitRepo, opts bootstrap.Options, head string) {
	t.Helper()
	versions := resourceVersions(t, c)
	again, err := bootstrap.Run(t.Context(), c, opts)
	if err != nil {
		t.Fatal(err)
	}
	if again.Committed || again.Commit != head || fleet.Head() != head {
		t.Errorf("bootstrapping again moved the branch: %+v, head %s, want %s", again, fleet.Head(), head)
	}
	if after := resourceVersions(t, c); again.Changed != 0 || !maps.Equal(versions, after) {
		t.Errorf("bootstrapping again changed %d objects: resource versions %v, then %v", again.Changed, versions, after)
	}
}

// checkBootstrapCommit finds one commit of bootstrap's on top of before,
// with the three files in the directory and nothing of the credentials.
func checkBootstrapCommit(t *testing.T, fleet *testenv.GitRepo, res bootstrap.Result, before string) {
	t.Helper()
	if !res.Committed || fleet.Head() != res.Commit {
		t.Fatalf("bootstrap: %+v, the branch is at %s", res, fleet.Head())
	}
	if parent := fleet.Git("rev-parse", res.Commit+"^"); parent != before {
		t.Errorf("bootstrap's commit is on %s, want the branch's head %s", parent, before)
	}
	files := strings.Fields(fleet.Git("ls-tree", "-r", "--name-only", res.Commit, "clusters/dev/weir"))
	want := []string{"clusters/dev/weir/kustomization.yaml", "clusters/dev/weir/weir-sync.yaml", "clusters/dev/weir/weir.yaml"}
	if !slices.Equal(files, want) {
		t.Errorf("bootstrap committed %v, want %v", files, want)
	}
	for _, f := range files {
		if strings.Contains(fleet.Git("show", res.Commit+":"+f), "s3cret") {
			t.Errorf("the password is in %s", f)
		}
	}
}

// checkBootstrapObjects finds weir installed and its Application syncing
// the directory with the credentials Secret.
func checkBootstrapObjects(t *testing.T, c client.Client, opts bootstrap.Options) {
	t.Helper()
	ctx := t.Context()
	app := &weirv1.Application{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: systemNamespace, Name: bootstrap.ApplicationName}, app); err != nil {
		t.Fatal(err)
	}
	src := app.Spec.Source
	if src.URL != opts.URL || src.Path != opts.Path || src.Ref.Branch != "main" || src.SecretRef == nil || src.SecretRef.Name != "weir-git" {
		t.Errorf("the Application syncs %+v", src)
	}
	secret := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: systemNamespace, Name: "weir-git"}, secret); err != nil {
		t.Fatal(err)
	}
	if string(secret.Data["username"]) != "fleet" || string(secret.Data["password"]) != "s3cret" {
		t.Error("the Secret weir-git does not hold the credentials")
	}
	for _, obj := range []client.Object{&appsv1.Deployment{}, &rbacv1.ClusterRole{}} {
		key := client.ObjectKey{Namespace: systemNamespace, Name: "weir-controller"}
		if _, ok := obj.(*rbacv1.ClusterRole); ok {
			key = client.ObjectKey{Name: "weir-self-apply"}
		}
		if err := c.Get(ctx, key, obj); err != nil {
			t.Errorf("after bootstrap: %v", err)
		}
	}
}

// bootstrapped are the kinds bootstrap applies, listed for their resource
// versions.
var bootstrapped = []string{"CustomResourceDefinitionList", "ClusterRoleList", "ClusterRoleBindingList", "RoleList", "RoleBindingList", "ServiceAccountList", "ServiceList", "DeploymentList", "SecretList", "ApplicationList"}

// resourceVersions are the resource versions of the objects in weir-system
// and the cluster-scoped ones named weir, by kind and name.
func resourceVersions(t *testing.T, c client.Client) map[string]string {
	t.Helper()
	versions := map[string]string{}
	for _, kind := range bootstrapped {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(listGVK(kind))
		if err := c.List(t.Context(), list); err != nil {
			t.Fatalf("list %s: %v", kind, err)
		}
		for _, o := range list.Items {
			if o.GetNamespace() == systemNamespace || strings.Contains(o.GetName(), "weir") {
				versions[kind+"/"+o.GetNamespace()+"/"+o.GetName()] = o.GetResourceVersion()
			}
		}
	}
	return versions
}

func listGVK(kind string) schema.GroupVersionKind {
	groups := map[string]string{
		"CustomResourceDefinitionList": "apiextensions.k8s.io/v1",
		"ClusterRoleList":              "rbac.authorization.k8s.io/v1", "ClusterRoleBindingList": "rbac.authorization.k8s.io/v1",
		"RoleList": "rbac.authorization.k8s.io/v1", "RoleBindingList": "rbac.authorization.k8s.io/v1",
		"ServiceAccountList": "v1", "ServiceList": "v1", "SecretList": "v1",
		"DeploymentList": "apps/v1", "ApplicationList": weirv1.GroupVersion.String(),
	}
	gv, _ := schema.ParseGroupVersion(groups[kind])
	return gv.WithKind(kind)
}

// cleanupBootstrap removes, when the test ends, what bootstrap adds to
// config/default, so that the other tests find weir as installed: its
// Application, the ClusterRole that lets weir apply itself, and the
// Secret.
func cleanupBootstrap(t *testing.T, c client.Client) {
	t.Cleanup(func() {
		ctx := context.Background()
		for _, obj := range []client.Object{
			&weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: systemNamespace, Name: bootstrap.ApplicationName}},
			&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "weir-self-apply"}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: systemNamespace, Name: "weir-git"}},
		} {
			if err := c.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
				t.Errorf("remove %T %s: %v", obj, obj.GetName(), err)
			}
		}
		// The upgrade's third replica.
		kubectl(t, "apply", "-k", filepath.Join(configDir, "default"))
	})
}
