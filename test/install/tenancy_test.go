package install

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/controller"
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
		for _, part := range parts {
			if !strings.Contains(stalled.Message, part) {
				return fmt.Errorf("the message does not say %s: %s", part, stalled.Message)
			}
		}
		return nil
	}
}
