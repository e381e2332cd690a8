package install

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/controller"
	"weir.dev/weir/internal/driftguard"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/harness"
)

// TestLeastPrivilege runs the controller as the ServiceAccount weir, with
// only what config/default and the documented per-namespace grant give it,
// and leader election on. It reads Git credentials from a Secret, applies
// a ConfigMap and a Deployment where it was granted, and where it was not
// it reports the refusal on the Application instead of waiting.
func TestLeastPrivilege(t *testing.T) {
	install(t)
	startController(t, asServiceAccount(testenv.Config(t), systemNamespace, "weir"), controller.Options{})

	repo := newAppRepo(t)
	const gitUser, gitPassword = "weir-bot", "pass-5d0c77e1"
	root, name := filepath.Split(repo.Dir)
	url := testenv.NewGitHTTPServer(t, root, gitUser, gitPassword, false).URL(name)
	c := testenv.Client(t, weirv1.AddToScheme)

	tests := []struct {
		name  string
		grant bool
		want  func(weirv1.ApplicationStatus) error
	}{
		{name: "granted namespace", grant: true, want: readyAt(repo.Head())},
		{name: "namespace without a grant", grant: false, want: refused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := testenv.Namespace(t)
			if tt.grant {
				grantNamespace(t, ns)
			}
			secret := &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "git-credentials"},
				Data:       map[string][]byte{"username": []byte(gitUser), "password": []byte(gitPassword)},
			}
			if err := c.Create(context.Background(), secret); err != nil {
				t.Fatal(err)
			}
			app := newApplication(t, c, ns, url, secret.Name)
			awaitApplication(t, c, app, tt.want)
			if tt.grant {
				awaitDriftPrevention(t, c, app)
			}
		})
	}
}

// awaitDriftPrevention turns drift prevention on for app and waits until
// weir has bound the policy to it; it turns it off again when the test
// ends.
func awaitDriftPrevention(t *testing.T, c client.Client, app *weirv1.Application) {
	t.Helper()
	ctx := context.Background()
	set := func(on bool) error {
		return c.Patch(ctx, app, client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"spec":{"sync":{"preventDrift":%t}}}`, on)))
	}
	if err := set(true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = set(false) })
	for _, name := range driftguard.BindingNames(client.ObjectKeyFromObject(app)) {
		testenv.Eventually(t, 30*time.Second, "the drift prevention binding "+name, func(ctx context.Context) error {
			return c.Get(ctx, client.ObjectKey{Name: name}, &admissionv1.ValidatingAdmissionPolicyBinding{})
		})
	}
}

// refused passes once the Application is not Ready because the API server
// refused weir, and says so.
func refused(s weirv1.ApplicationStatus) error {
	ready := apimeta.FindStatusCondition(s.Conditions, weirv1.ReadyCondition)
	switch {
	case ready == nil || ready.Status != metav1.ConditionFalse:
		return fmt.Errorf("want Ready False, got %v", ready)
	case ready.Reason != controller.ReasonValidationFailed && ready.Reason != controller.ReasonApplyFailed:
		return fmt.Errorf("want reason %s or %s, got %s: %s", controller.ReasonValidationFailed, controller.ReasonApplyFailed, ready.Reason, ready.Message)
	case !strings.Contains(ready.Message, "forbidden"):
		return fmt.Errorf("the message does not say forbidden: %s", ready.Message)
	}
	return nil
}

// asServiceAccount makes cfg act as the ServiceAccount, with the groups
// the API server gives a ServiceAccount's token.
func asServiceAccount(cfg *rest.Config, namespace, name string) *rest.Config {
	cfg.Impersonate = rest.ImpersonationConfig{UserName: serviceaccount.MakeUsername(namespace, name), Groups: serviceAccountGroups(namespace)}
	return cfg
}

// serviceAccountGroups are the groups the API server puts a ServiceAccount
// of namespace in.
func serviceAccountGroups(namespace string) []string {
	return append(serviceaccount.MakeGroupNames(namespace), user.AllAuthenticated)
}

// startController runs weir's controllers in this process with cfg and
// opts, electing a leader in weir-system as the installed Deployment does,
// until the test ends. It fails the test unless this process is elected.
func startController(t *testing.T, cfg *rest.Config, opts controller.Options) {
	t.Helper()
	harness.StartForTest(t, cfg, harness.Options{
		Manager: ctrl.Options{
			LeaderElection:                true,
			LeaderElectionNamespace:       systemNamespace,
			LeaderElectionID:              "weir-least-privilege",
			LeaderElectionReleaseOnCancel: true,
			// Tests of this package each start a controller of their own
			// in this process, one after the other.
			Controller: config.Controller{SkipNameValidation: ptr.To(true)},
		},
		Controller: opts,
	})
}

// TestServiceAccountPermissions asks the API server's authorizer what the
// installed roles let the ServiceAccount weir do: what the controller
// calls, and nothing more until a namespace is granted.
func TestServiceAccountPermissions(t *testing.T) {
	install(t)
	granted, other := testenv.Namespace(t), testenv.Namespace(t)
	grantNamespace(t, granted)
	c := testenv.Client(t)

	tests := []struct {
		attrs authorizationv1.ResourceAttributes
		want  bool
	}{
		{authorizationv1.ResourceAttributes{Group: "weir.dev", Resource: "applications", Verb: "watch"}, true},
		{authorizationv1.ResourceAttributes{Group: "weir.dev", Resource: "applications", Subresource: "status", Verb: "patch", Namespace: other}, true},
		{authorizationv1.ResourceAttributes{Group: "weir.dev", Resource: "applications", Verb: "patch", Namespace: other}, true}, // a standby replica's refresh request
		// An ApplicationSet's Applications are created, changed and
		// deleted as weir: sets are the administrator's, as Applications
		// are, and tenants may write neither (config/tenancy/roles).
		{authorizationv1.ResourceAttributes{Group: "weir.dev", Resource: "applications", Verb: "create", Namespace: other}, true},
		{authorizationv1.ResourceAttributes{Group: "weir.dev", Resource: "applications", Verb: "delete", Namespace: other}, true},
		{authorizationv1.ResourceAttributes{Group: "weir.dev", Resource: "applicationsets", Verb: "patch", Namespace: other}, false},
		{authorizationv1.ResourceAttributes{Resource: "secrets", Verb: "get", Namespace: other}, true},
		// A clusters generator lists Secrets as its set's ServiceAccount.
		{authorizationv1.ResourceAttributes{Resource: "secrets", Verb: "list", Namespace: other}, false},
		{authorizationv1.ResourceAttributes{Resource: "events", Verb: "create", Namespace: other}, true},
		{authorizationv1.ResourceAttributes{Group: "coordination.k8s.io", Resource: "leases", Verb: "update", Namespace: systemNamespace}, true},
		{authorizationv1.ResourceAttributes{Group: "coordination.k8s.io", Resource: "leases", Verb: "update", Namespace: other}, false},
		{authorizationv1.ResourceAttributes{Group: "apps", Resource: "deployments", Verb: "patch", Namespace: granted}, true},
		{authorizationv1.ResourceAttributes{Group: "apps", Resource: "deployments", Verb: "watch", Namespace: granted}, true},
		{authorizationv1.ResourceAttributes{Group: "apps", Resource: "deployments", Verb: "patch", Namespace: other}, false},
		{authorizationv1.ResourceAttributes{Group: "weir.dev", Resource: "rollouts", Verb: "watch"}, true},
		{authorizationv1.ResourceAttributes{Group: "weir.dev", Resource: "rollouts", Verb: "patch", Namespace: other}, true}, // its finalizer
		{authorizationv1.ResourceAttributes{Group: "weir.dev", Resource: "rollouts", Verb: "delete", Namespace: other}, false},
		{authorizationv1.ResourceAttributes{Group: "weir.dev", Resource: "rollouts", Subresource: "status", Verb: "patch", Namespace: other}, true},
		{authorizationv1.ResourceAttributes{Group: "weir.dev", Resource: "analysistemplates", Verb: "get", Namespace: other}, true},
		{authorizationv1.ResourceAttributes{Group: "weir.dev", Resource: "analysistemplates", Verb: "list", Namespace: other}, false},
		{authorizationv1.ResourceAttributes{Group: "apps", Resource: "deployments", Verb: "create", Namespace: granted}, true}, // a canary copy
		{authorizationv1.ResourceAttributes{Group: "apps", Resource: "replicasets", Verb: "list", Namespace: granted}, true},
		{authorizationv1.ResourceAttributes{Group: "batch", Resource: "jobs", Verb: "create", Namespace: granted}, true},
		{authorizationv1.ResourceAttributes{Group: "batch", Resource: "jobs", Verb: "create", Namespace: other}, false},
		{authorizationv1.ResourceAttributes{Resource: "namespaces", Verb: "delete", Name: granted}, false},
		// Impersonation: a tenant's ServiceAccount, with the extra that
		// names the Application; no user or group.
		{authorizationv1.ResourceAttributes{Resource: "serviceaccounts", Verb: "impersonate", Namespace: other, Name: "weir-tenant"}, true},
		{authorizationv1.ResourceAttributes{Group: "authentication.k8s.io", Resource: "userextras", Subresource: "application.weir.dev", Verb: "impersonate"}, true},
		{authorizationv1.ResourceAttributes{Group: "authentication.k8s.io", Resource: "userextras", Subresource: "scopes", Verb: "impersonate"}, false},
		{authorizationv1.ResourceAttributes{Resource: "users", Verb: "impersonate", Name: "system:admin"}, false},
		{authorizationv1.ResourceAttributes{Resource: "groups", Verb: "impersonate", Name: "system:masters"}, false},
		{authorizationv1.ResourceAttributes{Group: "weir.dev", Resource: "sourcepolicies", Verb: "watch"}, true},
		{authorizationv1.ResourceAttributes{Group: "weir.dev", Resource: "sourcepolicies", Verb: "create"}, false},
		{authorizationv1.ResourceAttributes{Resource: "namespaces", Verb: "list"}, true}, // the labels SourcePolicies select by
		// ClusterSyncPolicies: read and compiled, never written but for
		// their status; the ConfigMaps they name as params.
		{authorizationv1.ResourceAttributes{Group: "weir.dev", Resource: "clustersyncpolicies", Verb: "watch"}, true},
		{authorizationv1.ResourceAttributes{Group: "weir.dev", Resource: "clustersyncpolicies", Subresource: "status", Verb: "patch"}, true},
		{authorizationv1.ResourceAttributes{Group: "weir.dev", Resource: "clustersyncpolicies", Verb: "update"}, false},
		{authorizationv1.ResourceAttributes{Group: "weir.dev", Resource: "imageupdates", Verb: "watch"}, true},
		{authorizationv1.ResourceAttributes{Group: "weir.dev", Resource: "imageupdates", Subresource: "status", Verb: "patch"}, true},
		{authorizationv1.ResourceAttributes{Group: "weir.dev", Resource: "imageupdates", Verb: "update"}, false},
		{authorizationv1.ResourceAttributes{Resource: "configmaps", Verb: "get", Namespace: other}, true},
		{authorizationv1.ResourceAttributes{Resource: "configmaps", Verb: "list", Namespace: other}, false},
		// Drift prevention: the policy and its bindings, cluster-wide.
		{authorizationv1.ResourceAttributes{Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicybindings", Verb: "create"}, true},
		{authorizationv1.ResourceAttributes{Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicies", Verb: "delete"}, true},
		{authorizationv1.ResourceAttributes{Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations", Verb: "create"}, false},
		{authorizationv1.ResourceAttributes{Group: "authentication.k8s.io", Resource: "selfsubjectreviews", Verb: "create"}, true},
	}
	for _, tt := range tests {
		if got := allowed(context.Background(), t, c, systemNamespace, "weir", tt.attrs); got != tt.want {
			a := tt.attrs
			t.Errorf("%s %s/%s in %q: allowed %v, want %v", a.Verb, a.Resource, a.Subresource, a.Namespace, got, tt.want)
		}
	}
}

// allowed asks the API server's authorizer whether the ServiceAccount
// namespace/name may do what attrs say.
func allowed(ctx context.Context, t testing.TB, c client.Client, namespace, name string, attrs authorizationv1.ResourceAttributes) bool {
	t.Helper()
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:               serviceaccount.MakeUsername(namespace, name),
		Groups:             serviceAccountGroups(namespace),
		ResourceAttributes: &attrs,
	}}
	if err := c.Create(ctx, review); err != nil {
		t.Fatal(err)
	}
	return review.Status.Allowed
}
