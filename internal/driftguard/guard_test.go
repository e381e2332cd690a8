package driftguard

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
	"weir.dev/weir/internal/identity"
	"weir.dev/weir/internal/testenv"
)

// repoURL is the protected Application's repository, with a token in its
// userinfo that no refusal may show.
const (
	repoURL   = "https://deploy-bot:s3cret-token@git.example.com/shop/deploy.git"
	repoShown = "https://git.example.com/shop/deploy.git"
)

// protected is an Application that prevents drift and its objects, a
// ConfigMap and a Deployment, both annotated as its and in its inventory.
type protected struct {
	ns    string
	app   *weirv1.Application
	admin client.Client
	guard *Guard
}

// newProtected creates, in a namespace of its own, the Application shop
// and its objects, and has a Guard protect them (and forget them when the
// test ends).
func newProtected(t *testing.T, opts Options) *protected {
	t.Helper()
	ctx := testenv.Context(t, time.Minute)
	p := &protected{ns: testenv.Namespace(t), admin: testenv.Client(t, weirv1.AddToScheme)}
	p.app = newApplication(t, p.admin, p.ns, "shop", ptr.To(true))
	owned := metav1.ObjectMeta{Namespace: p.ns, Labels: weirsLabel, Annotations: map[string]string{weirv1.OwnerAnnotation: p.ns + "/shop"}}
	settings := owned
	settings.Name = "settings"
	critical := owned
	critical.Name, critical.Namespace = p.ns+"-critical", ""
	for _, obj := range []client.Object{
		&corev1.ConfigMap{ObjectMeta: settings, Data: map[string]string{"mode": "safe"}},
		&schedulingv1.PriorityClass{ObjectMeta: critical, Value: 1000},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "unowned", Namespace: p.ns, Labels: weirsLabel}},
		deployment("web", owned),
	} {
		if err := p.admin.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	p.app.Status.Inventory = []weirv1.ObjectRef{
		{Version: "v1", Kind: "ConfigMap", Namespace: p.ns, Name: "settings"},
		{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: p.ns, Name: "web"},
		{Group: "scheduling.k8s.io", Version: "v1", Kind: "PriorityClass", Name: critical.Name},
	}
	if err := p.admin.Status().Update(ctx, p.app); err != nil {
		t.Fatal(err)
	}
	p.guard = NewGuard(p.admin, p.admin, opts)
	if err := p.guard.Guard(ctx, p.app); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.guard.Forget(context.Background(), types.NamespacedName{Namespace: p.ns, Name: "shop"}); err != nil {
			t.Error(err)
		}
		_ = p.admin.Delete(context.Background(), &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: critical.Name}})
	})
	return p
}

func newApplication(t testing.TB, c client.Client, ns, name string, preventDrift *bool) *weirv1.Application {
	t.Helper()
	app := &weirv1.Application{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: weirv1.ApplicationSpec{Source: weirv1.GitSource{URL: repoURL},
			Sync: weirv1.SyncPolicy{PreventDrift: preventDrift}},
	}
	if err := c.Create(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	return app
}

// weirsLabel is the label weir sets on every object it applies.
var weirsLabel = map[string]string{apply.ManagedByLabel: "weir"}

func deployment(name string, meta metav1.ObjectMeta) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	meta.Name = name
	return &appsv1.Deployment{
		ObjectMeta: meta,
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}},
			},
		},
	}
}

// as is a client that impersonates imp, which may edit the namespace and
// write Deployments' status there.
func (p *protected) as(t *testing.T, imp rest.ImpersonationConfig) client.Client {
	t.Helper()
	cfg := testenv.Config(t)
	cfg.Impersonate = imp
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: p.ns, GenerateName: "status-"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"apps"}, Resources: []string{"deployments/status"}, Verbs: []string{"get", "update"}}},
	}
	if err := p.admin.Create(ctx, role); err != nil {
		t.Fatal(err)
	}
	p.grantPriorityClasses(t, imp.UserName)
	for kind, name := range map[string]string{"ClusterRole": "edit", "Role": role.Name} {
		binding := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: p.ns, GenerateName: "as-"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: imp.UserName}},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: name},
		}
		if err := p.admin.Create(ctx, binding); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// grantPriorityClasses lets user update and delete PriorityClasses, until
// the test ends.
func (p *protected) grantPriorityClasses(t *testing.T, user string) {
	t.Helper()
	ctx := context.Background()
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "priorityclasses-"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"scheduling.k8s.io"}, Resources: []string{"priorityclasses"},
			Verbs: []string{"get", "update", "delete"}}},
	}
	if err := p.admin.Create(ctx, role); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
	}
	if err := p.admin.Create(ctx, binding); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.admin.Delete(context.Background(), binding)
		_ = p.admin.Delete(context.Background(), role)
	})
}

// A change is one request about a protected object (or, where said, not),
// sent as a server-side dry run: admission runs, nothing is stored.
type change func(ctx context.Context, c client.Client, ns string) error

var changes = map[string]change{
	"update": func(ctx context.Context, c client.Client, ns string) error {
		cm := &corev1.ConfigMap{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "settings"}, cm); err != nil {
			return err
		}
		cm.Data["mode"] = "reckless"
		return c.Update(ctx, cm, client.DryRunAll)
	},
	"delete": func(ctx context.Context, c client.Client, ns string) error {
		return c.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "settings"}}, client.DryRunAll)
	},
	"scale": func(ctx context.Context, c client.Client, ns string) error {
		web, scale := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}}, &autoscalingv1.Scale{}
		if err := c.SubResource("scale").Get(ctx, web, scale); err != nil {
			return err
		}
		scale.Spec.Replicas = 5
		return c.SubResource("scale").Update(ctx, web, client.WithSubResourceBody(scale), client.DryRunAll)
	},
	"remove the owner annotation and weir's label": func(ctx context.Context, c client.Client, ns string) error {
		cm := &corev1.ConfigMap{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "settings"}, cm); err != nil {
			return err
		}
		cm.Annotations, cm.Labels = nil, nil
		return c.Update(ctx, cm, client.DryRunAll)
	},
	"create an object claiming the owner": func(ctx context.Context, c client.Client, ns string) error {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "forged", Labels: weirsLabel,
			Annotations: map[string]string{weirv1.OwnerAnnotation: ns + "/shop"}}}
		return c.Create(ctx, cm, client.DryRunAll)
	},
	"update a cluster-scoped object": func(ctx context.Context, c client.Client, ns string) error {
		pc := &schedulingv1.PriorityClass{}
		if err := c.Get(ctx, client.ObjectKey{Name: ns + "-critical"}, pc); err != nil {
			return err
		}
		pc.Description = "changed by hand"
		return c.Update(ctx, pc, client.DryRunAll)
	},
	"update the status (not guarded)": func(ctx context.Context, c client.Client, ns string) error {
		web := &appsv1.Deployment{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, web); err != nil {
			return err
		}
		web.Status.ObservedGeneration = 7
		return c.Status().Update(ctx, web, client.DryRunAll)
	},
	"update an object of no Application (not guarded)": func(ctx context.Context, c client.Client, ns string) error {
		cm := &corev1.ConfigMap{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "unowned"}, cm); err != nil {
			return err
		}
		cm.Data = map[string]string{"n": "1"}
		return c.Update(ctx, cm, client.DryRunAll)
	},
}

// refusedByPolicy reports whether err is the policy's refusal, naming the
// Application and its repository without the repository's credentials.
func refusedByPolicy(err error, ns string) bool {
	msg := fmt.Sprint(err)
	return apierrors.IsForbidden(err) && strings.Contains(msg, "managed by Application "+ns+"/shop from "+repoShown) &&
		!strings.Contains(msg, "s3cret")
}

// TestWhoMayChangeAProtectedObject sends, as each kind of user, each kind
// of change to the objects of a protected Application: only weir, weir
// acting for that Application, the break-glass group and the control
// plane get through.
func TestWhoMayChangeAProtectedObject(t *testing.T) {
	p := newProtected(t, Options{})
	alice := rest.ImpersonationConfig{UserName: "alice"}
	testenv.Eventually(t, 30*time.Second, "the policy enforced", func(ctx context.Context) error {
		if err := changes["update"](ctx, p.as(t, alice), p.ns); !refusedByPolicy(err, p.ns) {
			return fmt.Errorf("alice's update: %v", err)
		}
		return nil
	})
	serviceAccount := "system:serviceaccount:" + p.ns + ":deployer"
	serviceAccountGroups := []string{"system:serviceaccounts", "system:serviceaccounts:" + p.ns}
	identities := []struct {
		name    string
		imp     *rest.ImpersonationConfig // nil: weir's own user
		allowed bool
	}{
		{"weir itself", nil, true},
		{"another user", &alice, false},
		{"another member of system:masters", &rest.ImpersonationConfig{UserName: "root", Groups: []string{"system:masters"}}, false},
		{"a member of the break-glass group", &rest.ImpersonationConfig{UserName: "alice", Groups: []string{DefaultBreakGlassGroup}}, true},
		{"the tenant's ServiceAccount on its own", &rest.ImpersonationConfig{UserName: serviceAccount, Groups: serviceAccountGroups}, false},
		{"weir as the tenant's ServiceAccount for this Application", &rest.ImpersonationConfig{UserName: serviceAccount, Groups: serviceAccountGroups,
			Extra: map[string][]string{identity.ApplicationExtra: {p.ns + "/shop"}}}, true},
		{"weir as the tenant's ServiceAccount for another Application", &rest.ImpersonationConfig{UserName: serviceAccount, Groups: serviceAccountGroups,
			Extra: map[string][]string{identity.ApplicationExtra: {p.ns + "/other"}}}, false},
		{"the garbage collector", &rest.ImpersonationConfig{UserName: "system:serviceaccount:kube-system:generic-garbage-collector",
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:kube-system"}}, true},
		{"the controller manager", &rest.ImpersonationConfig{UserName: "system:kube-controller-manager"}, true},
		{"a kubelet", &rest.ImpersonationConfig{UserName: "system:node:node-1", Groups: []string{"system:nodes"}}, true},
	}
	for _, id := range identities {
		c := p.admin
		if id.imp != nil {
			c = p.as(t, *id.imp)
		}
		for what, change := range changes {
			t.Run(id.name+"/"+what, func(t *testing.T) {
				allowed := id.allowed || strings.HasSuffix(what, "(not guarded)")
				err := change(testenv.Context(t, 10*time.Second), c, p.ns)
				switch {
				case allowed && err != nil:
					t.Errorf("refused: %v", err)
				case !allowed && !refusedByPolicy(err, p.ns):
					t.Errorf("want the policy's refusal naming the Application and its repository, got %v", err)
				}
			})
		}
	}
}

// TestBindingsFollowTheApplications protects Applications as their spec
// and the default say, puts back what was removed by hand, and removes
// each binding when its Application stops preventing drift or is gone
// (also while weir was not running), and the policy with the last
// binding.
func TestBindingsFollowTheApplications(t *testing.T) {
	ctx := testenv.Context(t, time.Minute)
	ns, c := testenv.Namespace(t), testenv.Client(t, weirv1.AddToScheme)
	guard := NewGuard(c, c, Options{PreventByDefault: true})
	byDefault := newApplication(t, c, ns, "by-default", nil)
	optedOut := newApplication(t, c, ns, "opted-out", ptr.To(false))
	optedIn := newApplication(t, c, ns, "opted-in", ptr.To(true))
	for _, app := range []*weirv1.Application{byDefault, optedOut, optedIn} {
		if err := guard.Guard(ctx, app); err != nil {
			t.Fatal(err)
		}
	}
	checkBound(t, c, ns, map[string]bool{"by-default": true, "opted-out": false, "opted-in": true})

	// Removed by hand, the policy and a binding are put back.
	policy := &admissionv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: PolicyName}}
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: BindingNames(client.ObjectKeyFromObject(byDefault))[1]}}
	for _, obj := range []client.Object{policy, binding} {
		if err := c.Delete(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	if err := guard.Guard(ctx, byDefault); err != nil {
		t.Fatal(err)
	}
	checkBound(t, c, ns, map[string]bool{"by-default": true, "opted-in": true})

	optedIn.Spec.Sync.PreventDrift = ptr.To(false)
	if err := guard.Guard(ctx, optedIn); err != nil {
		t.Fatal(err)
	}
	checkBound(t, c, ns, map[string]bool{"by-default": true, "opted-in": false})

	// by-default is deleted while weir is not running; weir starts again.
	if err := c.Delete(ctx, byDefault); err != nil {
		t.Fatal(err)
	}
	if err := NewGuard(c, c, Options{}).Start(ctx); err != nil {
		t.Fatal(err)
	}
	checkBound(t, c, ns, map[string]bool{"by-default": false})
}

// checkBound checks which Applications of namespace ns have their two
// bindings, and that the policy exists exactly while some binding does.
func checkBound(t *testing.T, c client.Client, ns string, want map[string]bool) {
	t.Helper()
	ctx := context.Background()
	var bindings admissionv1.ValidatingAdmissionPolicyBindingList
	if err := c.List(ctx, &bindings); err != nil {
		t.Fatal(err)
	}
	bound, all := map[string]int{}, 0
	for _, b := range bindings.Items {
		if b.Spec.PolicyName != PolicyName {
			continue
		}
		all++
		if b.Spec.ParamRef.Namespace == ns {
			bound[b.Spec.ParamRef.Name]++
		}
	}
	for name, wantBound := range want {
		if n := bound[name]; wantBound && n != 2 || !wantBound && n != 0 {
			t.Errorf("Application %s has %d bindings, want them bound: %v", name, n, wantBound)
		}
	}
	err := c.Get(ctx, client.ObjectKey{Name: PolicyName}, &admissionv1.ValidatingAdmissionPolicy{})
	if exists := err == nil; exists != (all > 0) || client.IgnoreNotFound(err) != nil {
		t.Errorf("with %d bindings, the policy: %v", all, err)
	}
}
