package e2e

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/controller"
	"weir.dev/weir/internal/driftguard"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// TestPreventDrift: with spec.sync.preventDrift, the API server refuses
// kubectl scale, edit and delete of the Application's objects, naming the
// Application and its repository, while weir syncs and heals as before and
// the break-glass group gets through. Turning the option off, or deleting
// the Application, lifts the protection.
func TestPreventDrift(t *testing.T) {
	s := given(t, driftFiles)
	refusal := s.protectedAndStillSynced("")

	s.setPreventDrift("false")
	s.thenUnbound()
	s.kubectl(nil, "--as", "alice", "scale", "deployment/web", "--replicas=4")

	s.setPreventDrift("true")
	s.thenProtected(refusal)
	if err := s.c.Delete(context.Background(), s.app); err != nil {
		t.Fatal(err)
	}
	s.thenUnbound()
	s.kubectl(nil, "--as", "alice", "delete", "configmap/settings")
}

// TestPreventDriftAsATenant: an Application that runs as a ServiceAccount
// of its namespace is protected alike; weir, impersonating the
// ServiceAccount for it, syncs and heals, and the ServiceAccount on its own
// is refused.
func TestPreventDriftAsATenant(t *testing.T) {
	s := given(t, driftFiles)
	s.grantAdmin(serviceaccount.MakeUsername(s.ns, "deployer"))
	if err := s.c.Create(context.Background(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "deployer"}}); err != nil {
		t.Fatal(err)
	}
	refusal := s.protectedAndStillSynced("deployer")
	if err := s.refusedAs(serviceaccount.MakeUsername(s.ns, "deployer"), refusal, "scale", "deployment/web", "--replicas=5"); err != nil {
		t.Error(err)
	}
}

// protectedAndStillSynced creates the Application, protected and healing
// drift, as serviceAccount (or weir itself), and checks that alice may not
// change its objects, the break-glass group may, and weir heals and syncs
// through the policy. It returns the refusal's message.
func (s *story) protectedAndStillSynced(serviceAccount string) string {
	s.t.Helper()
	s.whenApplication(func(spec *weirv1.ApplicationSpec) {
		spec.ServiceAccountName = serviceAccount
		spec.Sync.SelfHeal = true
		spec.Sync.PreventDrift = new(true)
	})
	s.thenApplied(s.repo.Head())
	s.grantAdmin("alice")
	refusal := "managed by Application " + s.ns + "/shop from " + s.repo.URL() + ", which prevents drift"

	s.thenProtected(refusal)
	for _, args := range [][]string{{"scale", "deployment/web", "--replicas=5"}, {"edit", "configmap/settings"},
		{"delete", "configmap/settings"}, {"delete", "deployment/web"}} {
		if err := s.refusedAs("alice", refusal, args...); err != nil {
			s.t.Error(err)
		}
	}

	// The break-glass group gets through; weir, healing, too.
	s.kubectl(nil, "--as", "alice", "--as-group", driftguard.DefaultBreakGlassGroup, "scale", "deployment/web", "--replicas=5")
	s.waitFor("healed", func(app *weirv1.Application) bool {
		return len(app.Status.History) == 2 && app.Status.History[0].Trigger == controller.TriggerDrift &&
			app.Status.History[0].Result == weirv1.SyncSucceeded
	})
	var web appsv1.Deployment
	s.get(&web, "web")
	if *web.Spec.Replicas != 2 {
		s.t.Errorf("replicas = %d after healing, want Git's 2", *web.Spec.Replicas)
	}
	// And so does a sync of a new commit.
	s.thenApplied(s.commit("three replicas", map[string]string{"web.yaml": fixture.Deployment("web", 3, "nginx:1.27")}))
	return refusal
}

// refusedAs runs kubectl as user and passes if the API server refused it
// with a message that contains want.
func (s *story) refusedAs(user, want string, args ...string) error {
	out, err := s.tryKubectl([]string{"KUBE_EDITOR=sed -i s/safe/reckless/"}, append([]string{"--as", user}, args...)...)
	switch {
	case err == nil:
		return fmt.Errorf("kubectl %s as %s: not refused", strings.Join(args, " "), user)
	case !strings.Contains(out, want):
		return fmt.Errorf("kubectl %s as %s: %v, saying %q, not %q", strings.Join(args, " "), user, err, out, want)
	}
	return nil
}

// grantAdmin binds user to admin in the story's namespace.
func (s *story) grantAdmin(user string) {
	s.t.Helper()
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, GenerateName: "admin-"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"},
	}
	if err := s.c.Create(context.Background(), binding); err != nil {
		s.t.Fatal(err)
	}
}

func (s *story) setPreventDrift(value string) {
	s.t.Helper()
	patch := client.RawPatch("application/merge-patch+json", fmt.Appendf(nil, `{"spec":{"sync":{"preventDrift":%s}}}`, value))
	if err := s.c.Patch(context.Background(), s.app, patch); err != nil {
		s.t.Fatal(err)
	}
}

// thenProtected waits until the API server refuses alice's changes to the
// Application's objects with a message that contains refusal: it takes
// the API server a moment to load a binding. Until then the probe is a
// dry run, which changes nothing.
func (s *story) thenProtected(refusal string) {
	s.t.Helper()
	testenv.Eventually(s.t, 30*time.Second, "kubectl scale refused", func(context.Context) error {
		return s.refusedAs("alice", refusal, "scale", "deployment/web", "--replicas=5", "--dry-run=server")
	})
}

// thenUnbound waits until the Application's bindings are gone, and the
// policy with it unless another Application is protected, and then until
// the API server lets alice change the Application's objects.
func (s *story) thenUnbound() {
	s.t.Helper()
	mine := driftguard.BindingNames(client.ObjectKeyFromObject(s.app))
	testenv.Eventually(s.t, 30*time.Second, "the binding removed", func(ctx context.Context) error {
		var bindings admissionv1.ValidatingAdmissionPolicyBindingList
		if err := s.c.List(ctx, &bindings); err != nil {
			return err
		}
		others := 0
		for _, b := range bindings.Items {
			if slices.Contains(mine, b.Name) {
				return fmt.Errorf("the binding %s is still there", b.Name)
			}
			if b.Spec.PolicyName == driftguard.PolicyName {
				others++
			}
		}
		err := s.c.Get(ctx, client.ObjectKey{Name: driftguard.PolicyName}, &admissionv1.ValidatingAdmissionPolicy{})
		switch {
		case others == 0 && err == nil:
			return errors.New("the policy is still there, with no binding")
		case others > 0 && err != nil:
			return fmt.Errorf("the policy of %d other bindings: %w", others, err)
		}
		return client.IgnoreNotFound(err)
	})
	testenv.Eventually(s.t, 30*time.Second, "kubectl scale allowed", func(context.Context) error {
		out, err := s.tryKubectl(nil, "--as", "alice", "scale", "deployment/web", "--replicas=5", "--dry-run=server")
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
}
