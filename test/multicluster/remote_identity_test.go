package multicluster

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// TestRemoteApplicationActsAsItsServiceAccountThere: an Application that
// names a ServiceAccount is applied on the remote cluster as the
// ServiceAccount of that name there: refused while it may not write
// ConfigMaps, applied once a Role there lets it.
func TestRemoteApplicationActsAsItsServiceAccountThere(t *testing.T) {
	s := givenRemote(t, testenv.Remote(t, 0), map[string]string{"settings.yaml": fixture.ConfigMap("settings", "color", "blue")})
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "deployer"}}
	if err := s.remote.Create(t.Context(), sa); err != nil {
		t.Fatal(err)
	}
	s.whenApplication("remote", func(spec *weirv1.ApplicationSpec) { spec.ServiceAccountName = "deployer" })
	app := s.thenCondition(weirv1.ReadyCondition, metav1.ConditionFalse, "ValidationFailed")
	want := `User "system:serviceaccount:` + s.ns + `:deployer" cannot`
	if msg := conditionMessage(app, weirv1.ReadyCondition); !strings.Contains(msg, want) {
		t.Fatalf("Ready says %q, want the remote API server refusing %s", msg, want)
	}

	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "deployer"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"*"}}}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "deployer"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "deployer"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: s.ns, Name: "deployer"}}}
	if err := s.remote.Create(t.Context(), role); err != nil {
		t.Fatal(err)
	}
	if err := s.remote.Create(t.Context(), binding); err != nil {
		t.Fatal(err)
	}
	s.waitFor("Ready once the ServiceAccount may write ConfigMaps on the remote cluster", time.Minute, func(app *weirv1.Application) bool {
		return app.Status.LastAppliedRevision != "" && conditionStatus(app, weirv1.ReadyCondition) == metav1.ConditionTrue
	})
	s.remoteConfigMap("settings", "color", "blue")
}
