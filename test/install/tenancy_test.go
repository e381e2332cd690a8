package install

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/controller"
	"weir.dev/weir/internal/delivery"
	"weir.dev/weir/internal/identity"
	"weir.dev/weir/internal/testenv"
)

// tenantServiceAccount is the ServiceAccount config/tenancy/tenant makes.
const tenantServiceAccount = "weir-tenant"

// tenancyOptions run the controller as the README's Tenancy section has
// it: every Application as its namespace's weir-tenant, no reference out
// of a namespace. Git repositories of the tests are on the local disk.
func tenancyOptions() controller.Options {
	opts := controller.Options{Tenancy: identity.Policy{DefaultServiceAccount: tenantServiceAccount, NoCrossNamespaceRefs: true}}
	opts.Sources.AllowFileSources = true
	return opts
}

// installTenancy installs weir, and config/tenancy/roles, as the README
// tells an administrator to.
func installTenancy(t testing.TB) {
	t.Helper()
	install(t)
	kubectl(t, "apply", "-k", filepath.Join(configDir, "tenancy", "roles"))
}

// newTenant makes a namespace a tenant the documented way: an overlay of
// config/tenancy/tenant that sets the namespace, which it returns.
func newTenant(t testing.TB) string {
	t.Helper()
	ns := testenv.Namespace(t)
	applyOverlay(t, filepath.Join(configDir, "tenancy", "tenant"), ns)
	return ns
}

// TestATenantsSetupGrants asks the API server's authorizer what
// config/tenancy gives a tenant's ServiceAccount and weir: the one admin in
// its namespace and nothing elsewhere, the other a view of it for drift.
func TestATenantsSetupGrants(t *testing.T) {
	installTenancy(t)
	tenant, other := newTenant(t), newTenant(t)
	c := testenv.Client(t)
	type attrs = authorizationv1.ResourceAttributes
	tests := []struct {
		serviceAccount client.ObjectKey
		attrs          attrs
		want           bool
	}{
		{client.ObjectKey{Namespace: tenant, Name: tenantServiceAccount}, attrs{Group: "apps", Resource: "deployments", Verb: "patch", Namespace: tenant}, true},
		{client.ObjectKey{Namespace: tenant, Name: tenantServiceAccount}, attrs{Resource: "secrets", Verb: "get", Namespace: tenant}, true},
		{client.ObjectKey{Namespace: tenant, Name: tenantServiceAccount}, attrs{Group: "weir.dev", Resource: "rollouts", Verb: "patch", Namespace: tenant}, true},
		{client.ObjectKey{Namespace: tenant, Name: tenantServiceAccount}, attrs{Group: "weir.dev", Resource: "analysistemplates", Verb: "get", Namespace: tenant}, true},
		{client.ObjectKey{Namespace: tenant, Name: tenantServiceAccount}, attrs{Group: "weir.dev", Resource: "applications", Verb: "create", Namespace: tenant}, false},
		{client.ObjectKey{Namespace: tenant, Name: tenantServiceAccount}, attrs{Group: "apps", Resource: "deployments", Verb: "get", Namespace: other}, false},
		{client.ObjectKey{Namespace: tenant, Name: tenantServiceAccount}, attrs{Resource: "namespaces", Verb: "create"}, false},
		{client.ObjectKey{Namespace: tenant, Name: tenantServiceAccount}, attrs{Group: "rbac.authorization.k8s.io", Resource: "clusterroles", Verb: "create"}, false},
		{client.ObjectKey{Namespace: tenant, Name: tenantServiceAccount}, attrs{Group: "weir.dev", Resource: "clustersyncpolicies", Verb: "create"}, false},
		{client.ObjectKey{Namespace: tenant, Name: tenantServiceAccount}, attrs{Group: "weir.dev", Resource: "clustersyncpolicies", Verb: "delete"}, false},
		{client.ObjectKey{Namespace: systemNamespace, Name: "weir"}, attrs{Group: "apps", Resource: "deployments", Verb: "watch", Namespace: tenant}, true},
		{client.ObjectKey{Namespace: systemNamespace, Name: "weir"}, attrs{Group: "apps", Resource: "deployments", Verb: "patch", Namespace: tenant}, false},
		{client.ObjectKey{Namespace: systemNamespace, Name: "weir"}, attrs{Resource: "secrets", Verb: "list", Namespace: tenant}, false},
	}
	// The aggregated role takes a moment to reach admin.
	testenv.Eventually(t, 30*time.Second, "the tenant's grants", func(ctx context.Context) error {
		var errs []error
		for _, tt := range tests {
			if got := allowed(ctx, t, c, tt.serviceAccount.Namespace, tt.serviceAccount.Name, tt.attrs); got != tt.want {
				a := tt.attrs
				errs = append(errs, fmt.Errorf("%s: %s %s in %q: allowed %v, want %v", tt.serviceAccount, a.Verb, a.Resource, a.Namespace, got, tt.want))
			}
		}
		return errors.Join(errs...)
	})
}

// serviceAccountConfig is a configuration for the cluster that
// authenticates with a token of the ServiceAccount, as a pod's would: its
// requests are authorized, and may impersonate, as the ServiceAccount's
// roles allow.
func serviceAccountConfig(t testing.TB, namespace, name string) *rest.Config {
	t.Helper()
	admin := testenv.Config(t)
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}
	tok, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(context.Background(), name, req, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token of ServiceAccount %s/%s: %v", namespace, name, err)
	}
	cfg := rest.AnonymousClientConfig(admin)
	cfg.BearerToken = tok.Status.Token
	return cfg
}

// TestAForbiddenWriteNamesTheServiceAccountTheVerbAndTheObject: a tenant's
// repository holds an object in another namespace, which its ServiceAccount
// may not write. The dry run, as that ServiceAccount, refuses the whole set:
// nothing is applied, not even the tenant's own object, and the Application
// says who was refused what on which object.
func TestAForbiddenWriteNamesTheServiceAccountTheVerbAndTheObject(t *testing.T) {
	installTenancy(t)
	startController(t, serviceAccountConfig(t, systemNamespace, "weir"), tenancyOptions())
	c := testenv.Client(t, weirv1.AddToScheme)
	tenant, other := newTenant(t), testenv.Namespace(t)

	repo := testenv.NewGitRepo(t)
	repo.Write("mine.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mine\ndata:\n  k: v\n")
	repo.Write("theirs.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: theirs\n  namespace: "+other+"\ndata:\n  k: v\n")
	repo.Commit("one object of the tenant's, one of another namespace")
	app := newApplication(t, c, tenant, repo.URL(), "")

	want := []string{
		fmt.Sprintf("%q", "system:serviceaccount:"+tenant+":"+tenantServiceAccount),
		"cannot get", `configmaps "theirs"`, `namespace "` + other + `"`,
	}
	awaitApplication(t, c, app, stalledSaying(controller.ReasonValidationFailed, want...))
	for _, key := range []client.ObjectKey{{Namespace: tenant, Name: "mine"}, {Namespace: other, Name: "theirs"}} {
		if err := c.Get(context.Background(), key, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
			t.Errorf("ConfigMap %s: %v, want it never applied", key, err)
		}
	}
}

// stalledSaying passes once the Application is Stalled, and not Ready, for
// reason, with a message holding each of parts, and never applied a
// revision.
func stalledSaying(reason string, parts ...string) func(weirv1.ApplicationStatus) error {
	return func(s weirv1.ApplicationStatus) error {
		stalled := apimeta.FindStatusCondition(s.Conditions, weirv1.StalledCondition)
		ready := apimeta.FindStatusCondition(s.Conditions, weirv1.ReadyCondition)
		switch {
		case stalled == nil || stalled.Status != metav1.ConditionTrue || stalled.Reason != reason:
			return fmt.Errorf("want Stalled True for %s, got %v", reason, stalled)
		case ready == nil || ready.Status != metav1.ConditionFalse || ready.Message != stalled.Message:
			return fmt.Errorf("want Ready False with Stalled's message, got %v", ready)
		case s.LastAppliedRevision != "":
			return fmt.Errorf("applied %s", s.LastAppliedRevision)
		}
		return saying(stalled.Message, parts)
	}
}

// TestTwoTenantsShareOneWeir runs one controller as the README's Tenancy
// section sets it up, for two tenants. Each syncs its own namespace; every
// way for tenant a to reach beyond its namespace is refused, says why, and
// changes nothing of b's or of the cluster.
func TestTwoTenantsShareOneWeir(t *testing.T) {
	installTenancy(t)
	startController(t, serviceAccountConfig(t, systemNamespace, "weir"), tenancyOptions())
	c := testenv.Client(t, weirv1.AddToScheme)
	a, b := newTenant(t), newTenant(t)
	sa := fmt.Sprintf("%q", "system:serviceaccount:"+a+":"+tenantServiceAccount)

	appA := tenantApplication(t, c, a, "shop", map[string]string{"cm.yaml": configMapIn("", "shop", "team a")}, nil)
	appB := tenantApplication(t, c, b, "shop", map[string]string{"cm.yaml": configMapIn("", "shop", "team b")}, nil)
	awaitApplication(t, c, appA, readyAt(""))
	awaitApplication(t, c, appB, readyAt(""))
	bKeys := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: b, Name: "b-keys"}, StringData: map[string]string{"username": "b", "password": "b"}}
	bTemplate := &weirv1.AnalysisTemplate{ObjectMeta: metav1.ObjectMeta{Namespace: b, Name: "b-template"}, Spec: weirv1.AnalysisTemplateSpec{
		Metrics: []weirv1.Metric{{Name: "ok", Provider: weirv1.MetricProvider{Web: &weirv1.WebMetric{URL: "http://127.0.0.1:1/"}}}},
	}}
	for _, obj := range []client.Object{bKeys, bTemplate} {
		if err := c.Create(context.Background(), obj); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("drift seen by weir and healed as the tenant", func(t *testing.T) {
		app := tenantApplication(t, c, a, "healed", map[string]string{"cm.yaml": configMapIn("", "healed", "a")},
			func(app *weirv1.Application) { app.Spec.Sync.SelfHeal = true })
		awaitApplication(t, c, app, readyAt(""))
		cm := &corev1.ConfigMap{}
		key := client.ObjectKey{Namespace: a, Name: "healed"}
		if err := c.Get(context.Background(), key, cm); err != nil {
			t.Fatal(err)
		}
		before := cm.DeepCopy()
		cm.Data["owner"] = "someone else"
		if err := c.Patch(context.Background(), cm, client.MergeFrom(before), client.FieldOwner("kubectl-edit")); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, 30*time.Second, "ConfigMap "+key.String()+" healed", func(ctx context.Context) error {
			if err := c.Get(ctx, key, cm); err != nil {
				return err
			}
			if cm.Data["owner"] != "a" {
				return fmt.Errorf("owner is %q", cm.Data["owner"])
			}
			return nil
		})
	})
	t.Run("an object in the other tenant's namespace", func(t *testing.T) {
		app := tenantApplication(t, c, a, "into-b", map[string]string{
			"mine.yaml":  configMapIn("", "into-b", "a"),
			"their.yaml": configMapIn(b, "shop", "taken by a"),
		}, nil)
		awaitApplication(t, c, app, stalledSaying(controller.ReasonValidationFailed, sa, `configmaps "shop"`, `namespace "`+b+`"`))
		notApplied(t, c, &corev1.ConfigMap{}, client.ObjectKey{Namespace: a, Name: "into-b"})
	})
	t.Run("a cluster-scoped object", func(t *testing.T) {
		app := tenantApplication(t, c, a, "cluster", map[string]string{
			"mine.yaml": configMapIn("", "cluster", "a"),
			"role.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: " + a + "-everything\nrules:\n- apiGroups: ['*']\n  resources: ['*']\n  verbs: ['*']\n",
		}, nil)
		awaitApplication(t, c, app, stalledSaying(controller.ReasonValidationFailed, sa, `clusterroles.rbac.authorization.k8s.io "`+a+`-everything"`))
		notApplied(t, c, &corev1.ConfigMap{}, client.ObjectKey{Namespace: a, Name: "cluster"})
		notApplied(t, c, &rbacv1.ClusterRole{}, client.ObjectKey{Name: a + "-everything"})
	})
	t.Run("another namespace as destination", func(t *testing.T) {
		app := tenantApplication(t, c, a, "destination", map[string]string{"mine.yaml": configMapIn("", "destination", "a")},
			func(app *weirv1.Application) { app.Spec.Destination.Namespace = b })
		awaitApplication(t, c, app, stalledSaying(controller.ReasonCrossNamespaceRef, "spec.destination.namespace", `"`+b+`"`))
		notApplied(t, c, &corev1.ConfigMap{}, client.ObjectKey{Namespace: b, Name: "destination"})
	})
	t.Run("the other tenant's Secret", func(t *testing.T) {
		for field, set := range map[string]func(*weirv1.Application){
			"source": func(app *weirv1.Application) {
				app.Spec.Source.SecretRef = &weirv1.LocalObjectReference{Name: bKeys.Name}
			},
			"decryption": func(app *weirv1.Application) {
				app.Spec.Decryption = &weirv1.Decryption{Provider: weirv1.DecryptionProviderSOPS, SecretRef: weirv1.LocalObjectReference{Name: bKeys.Name}}
			},
		} {
			app := tenantApplication(t, c, a, field+"-secret", map[string]string{"mine.yaml": configMapIn("", field+"-secret", "a")}, set)
			awaitApplication(t, c, app, notReadySaying(a+"/"+bKeys.Name, "not found"))
			notApplied(t, c, &corev1.ConfigMap{}, client.ObjectKey{Namespace: a, Name: field + "-secret"})
		}
	})
	t.Run("the other tenant's AnalysisTemplate", func(t *testing.T) {
		repo := tenantRepo(t, map[string]string{
			"deployment.yaml": shopDeployment("shop:1"), "service.yaml": restartService,
			"rollout.yaml": strings.Replace(restartRollout, "      steps:\n", "      steps:\n      - analysis: {templates: [{name: "+bTemplate.Name+"}]}\n", 1),
		})
		app := newTenantApplication(t, c, a, "release", repo.URL(), nil)
		awaitApplication(t, c, app, readyAt(repo.Head()))
		repo.Write("deployment.yaml", shopDeployment("shop:2"))
		repo.Commit("shop 2")
		awaitRollout(t, c, client.ObjectKey{Namespace: a, Name: "shop"}, stalledRollout(delivery.ReasonAnalysisNotReady, `"`+bTemplate.Name+`" not found in namespace "`+a+`"`))
	})
	t.Run("a Rollout naming the other tenant's Application", func(t *testing.T) {
		ro := &weirv1.Rollout{
			ObjectMeta: metav1.ObjectMeta{Namespace: a, Name: "borrower", Annotations: map[string]string{weirv1.ApplicationAnnotation: b + "/shop"}},
			Spec: weirv1.RolloutSpec{TargetRef: weirv1.LocalObjectReference{Name: "shop"},
				Strategy: weirv1.RolloutStrategy{Canary: &weirv1.CanaryStrategy{Service: "shop"}}},
		}
		if err := c.Create(context.Background(), ro); err != nil {
			t.Fatal(err)
		}
		awaitRollout(t, c, client.ObjectKeyFromObject(ro), stalledRollout(controller.ReasonCrossNamespaceRef, "metadata.annotations[weir.dev/application]", `"`+b+`"`))
	})
	// Last: the policy binds all of a's Applications.
	t.Run("a refused source URL", func(t *testing.T) {
		policy := &weirv1.SourcePolicy{ObjectMeta: metav1.ObjectMeta{Name: "tenant-" + a}, Spec: weirv1.SourcePolicySpec{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: a}},
			GitRepositories:   []string{"https://git.example.com/team-a/**"},
		}}
		if err := c.Create(context.Background(), policy); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Delete(context.Background(), policy) })
		app := tenantApplication(t, c, a, "elsewhere", map[string]string{"mine.yaml": configMapIn("", "elsewhere", "a")}, nil)
		awaitApplication(t, c, app, stalledSaying(controller.ReasonSourceNotAllowed, "spec.source.url", "SourcePolicy "+policy.Name))
		notApplied(t, c, &corev1.ConfigMap{}, client.ObjectKey{Namespace: a, Name: "elsewhere"})
	})

	// b's objects are as b applied them, whatever a tried.
	var shop corev1.ConfigMap
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: b, Name: "shop"}, &shop); err != nil {
		t.Fatal(err)
	}
	if shop.Data["owner"] != "team b" || shop.Annotations[weirv1.OwnerAnnotation] != b+"/shop" {
		t.Errorf("b's ConfigMap: %v %v, want b's", shop.Data, shop.Annotations)
	}
	awaitApplication(t, c, appB, readyAt(""))
}

// configMapIn is a ConfigMap named name, in namespace ns when it is set,
// whose "owner" is owner.
func configMapIn(ns, name, owner string) string {
	meta := "  name: " + name + "\n"
	if ns != "" {
		meta += "  namespace: " + ns + "\n"
	}
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n" + meta + "data:\n  owner: " + owner + "\n"
}

// tenantRepo is a Git repository whose first commit holds files.
func tenantRepo(t testing.TB, files map[string]string) *testenv.GitRepo {
	t.Helper()
	repo := testenv.NewGitRepo(t)
	for name, content := range files {
		repo.Write(name, content)
	}
	repo.Commit("tenant's objects")
	return repo
}

// tenantApplication creates, in ns, the Application name that syncs a new
// repository of files, changed by edit when it is set.
func tenantApplication(t testing.TB, c client.Client, ns, name string, files map[string]string, edit func(*weirv1.Application)) *weirv1.Application {
	t.Helper()
	return newTenantApplication(t, c, ns, name, tenantRepo(t, files).URL(), edit)
}

// newTenantApplication creates, in ns, the Application name that syncs url
// every second, changed by edit when it is set.
func newTenantApplication(t testing.TB, c client.Client, ns, name, url string, edit func(*weirv1.Application)) *weirv1.Application {
	t.Helper()
	app := &weirv1.Application{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: weirv1.ApplicationSpec{
			Source: weirv1.GitSource{URL: url},
			Sync:   weirv1.SyncPolicy{Interval: &metav1.Duration{Duration: time.Second}, Timeout: &metav1.Duration{Duration: 30 * time.Second}},
		},
	}
	if edit != nil {
		edit(app)
	}
	if err := c.Create(context.Background(), app); err != nil {
		t.Fatalf("create Application %s/%s: %v", ns, name, err)
	}
	return app
}

// notApplied fails the test if the object key names exists, for a while.
func notApplied(t testing.TB, c client.Client, obj client.Object, key client.ObjectKey) {
	t.Helper()
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		if err := c.Get(context.Background(), key, obj); !apierrors.IsNotFound(err) {
			t.Fatalf("%T %s of a refused Application: %v, want not found", obj, key, err)
		}
	}
}

// notReadySaying passes once the Application is not Ready, with a message
// holding each of parts, and never applied a revision.
func notReadySaying(parts ...string) func(weirv1.ApplicationStatus) error {
	return func(s weirv1.ApplicationStatus) error {
		ready := apimeta.FindStatusCondition(s.Conditions, weirv1.ReadyCondition)
		if ready == nil || ready.Status != metav1.ConditionFalse {
			return fmt.Errorf("want Ready False, got %v", ready)
		}
		if s.LastAppliedRevision != "" {
			return fmt.Errorf("applied %s", s.LastAppliedRevision)
		}
		return saying(ready.Message, parts)
	}
}

// saying returns what of parts msg does not hold.
func saying(msg string, parts []string) error {
	for _, part := range parts {
		if !strings.Contains(msg, part) {
			return fmt.Errorf("the message does not say %s: %s", part, msg)
		}
	}
	return nil
}

// awaitRollout waits until the Rollout's status satisfies check.
func awaitRollout(t testing.TB, c client.Client, key client.ObjectKey, check func(weirv1.RolloutStatus) error) {
	t.Helper()
	testenv.Eventually(t, time.Minute, "Rollout "+key.String(), func(ctx context.Context) error {
		ro := &weirv1.Rollout{}
		if err := c.Get(ctx, key, ro); err != nil {
			return err
		}
		return check(ro.Status)
	})
}

// stalledRollout passes once the Rollout is Stalled for reason, with a
// message holding each of parts.
func stalledRollout(reason string, parts ...string) func(weirv1.RolloutStatus) error {
	return func(s weirv1.RolloutStatus) error {
		stalled := apimeta.FindStatusCondition(s.Conditions, weirv1.StalledCondition)
		if stalled == nil || stalled.Status != metav1.ConditionTrue || stalled.Reason != reason {
			return fmt.Errorf("want Stalled True for %s, got %v", reason, stalled)
		}
		return saying(stalled.Message, parts)
	}
}

// TestATenantsEditorWritesWeirsTenantKinds: someone bound to the built-in
// edit role in a tenant's namespace creates, with config/tenancy/roles
// applied, each of weir's kinds that a tenant writes there, and no
// Application or ApplicationSet.
func TestATenantsEditorWritesWeirsTenantKinds(t *testing.T) {
	installTenancy(t)
	tenant := newTenant(t)
	admin := testenv.Client(t, weirv1.AddToScheme)
	editor := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "editor"}}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "editor"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: tenant, Name: editor.Name}},
	}
	for _, obj := range []client.Object{editor, binding} {
		if err := admin.Create(context.Background(), obj); err != nil {
			t.Fatal(err)
		}
	}
	c, err := client.New(serviceAccountConfig(t, tenant, editor.Name), client.Options{Scheme: admin.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	app := weirv1.LocalObjectReference{Name: "web"}
	objs := []client.Object{
		&weirv1.Rollout{ObjectMeta: meta(tenant, "web"), Spec: weirv1.RolloutSpec{TargetRef: app,
			Strategy: weirv1.RolloutStrategy{Canary: &weirv1.CanaryStrategy{Service: "web"}}}},
		&weirv1.AnalysisTemplate{ObjectMeta: meta(tenant, "web"), Spec: weirv1.AnalysisTemplateSpec{
			Metrics: []weirv1.Metric{{Name: "ok", Provider: weirv1.MetricProvider{Web: &weirv1.WebMetric{URL: "http://127.0.0.1:1/"}}}}}},
		&weirv1.ImageUpdate{ObjectMeta: meta(tenant, "web"), Spec: weirv1.ImageUpdateSpec{Image: "registry.example.com/web",
			Policy: weirv1.ImagePolicy{SemVer: &weirv1.SemVerPolicy{Range: ">=1.0.0"}}, Update: weirv1.ImageUpdateTarget{ApplicationRef: app}}},
		&weirv1.Pipeline{ObjectMeta: meta(tenant, "web"), Spec: weirv1.PipelineSpec{
			Images: []weirv1.PipelineImage{{Name: "web", Repository: "registry.example.com/web"}},
			Stages: []weirv1.PipelineStage{{Name: "dev", Applications: []weirv1.LocalObjectReference{app}},
				{Name: "prod", Applications: []weirv1.LocalObjectReference{app}}}}},
		&weirv1.Notification{ObjectMeta: meta(tenant, "web"), Spec: weirv1.NotificationSpec{Provider: weirv1.ProviderWebhook,
			Address: "http://127.0.0.1:1/"}},
	}
	// The aggregated role takes a moment to reach edit.
	for _, obj := range objs {
		kind := fmt.Sprintf("%T", obj)
		testenv.Eventually(t, 30*time.Second, "the editor creates a "+kind, func(ctx context.Context) error {
			return c.Create(ctx, obj)
		})
	}
	// Authorization comes before validation: empty specs do.
	for _, obj := range []client.Object{&weirv1.Application{ObjectMeta: meta(tenant, "web")}, &weirv1.ApplicationSet{ObjectMeta: meta(tenant, "web")}} {
		if err := c.Create(context.Background(), obj); !apierrors.IsForbidden(err) {
			t.Errorf("the editor created a %T: %v, want forbidden", obj, err)
		}
	}
}
