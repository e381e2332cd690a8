package approval

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// as is a client that the API server knows as user, allowed everything.
func as(t *testing.T, user string) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(testenv.Config(t))
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:masters"}}
	c, err := client.New(cfg, client.Options{Scheme: testenv.Client(t, weirv1.AddToScheme).Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// annotate sets the Pipeline's annotation key to value as c.
func annotate(ctx context.Context, c client.Client, p *weirv1.Pipeline, key, value string) error {
	patch := client.RawPatch("application/merge-patch+json",
		[]byte(`{"metadata":{"annotations":{"`+key+`":"`+value+`"}}}`))
	return c.Patch(ctx, p.DeepCopy(), patch)
}

// With the gate in place, the API server admits an approval only in the
// name of the user who sets it, when the Pipeline is created or changed;
// others may change the Pipeline around an approval they did not give.
func TestAnApprovalNamesWhoGaveIt(t *testing.T) {
	ctx := testenv.Context(t, time.Minute)
	admin := testenv.Client(t, weirv1.AddToScheme)
	alice, bob := as(t, "alice@example.com"), as(t, "bob")
	ns := testenv.Namespace(t)
	prod := weirv1.ApprovalAnnotation("prod")
	inForce(t, admin, ns)

	forged := pipeline(ns, "forged", map[string]string{prod: weirv1.ApprovalValue("c0ffee", "bob")})
	if err := wantRefused(alice.Create(ctx, forged), "alice@example.com"); err != nil {
		t.Fatalf("alice creates a Pipeline with an approval in bob's name: %v", err)
	}
	p := pipeline(ns, "web", map[string]string{prod: weirv1.ApprovalValue("c0ffee", "alice@example.com")})
	if err := alice.Create(ctx, p); err != nil {
		t.Fatalf("alice creates a Pipeline with her approval: %v", err)
	}
	for _, tc := range []struct {
		who        string
		c          client.Client
		key, value string
		refused    bool
	}{
		{"bob labels it, leaving alice's approval", bob, "note.example.com/x", "y", false},
		{"bob approves staging as himself", bob, weirv1.ApprovalAnnotation("staging"), weirv1.ApprovalValue("beef01", "bob"), false},
		{"bob rewrites prod's approval as alice's", bob, prod, weirv1.ApprovalValue("d00d", "alice@example.com"), true},
		{"alice approves as bob", alice, prod, weirv1.ApprovalValue("d00d", "bob"), true},
		{"alice hides a second name behind a space", alice, prod, "d00d by bob by alice@example.com", true},
		{"alice approves another change as herself", alice, prod, weirv1.ApprovalValue("d00d", "alice@example.com"), false},
	} {
		err := annotate(ctx, tc.c, p, tc.key, tc.value)
		if tc.refused {
			if err := wantRefused(err, ""); err != nil {
				t.Errorf("%s: %v", tc.who, err)
			}
		} else if err != nil {
			t.Errorf("%s: %v", tc.who, err)
		}
	}
	if err := admin.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
		t.Fatal(err)
	}
	if got := p.Annotations[prod]; got != weirv1.ApprovalValue("d00d", "alice@example.com") {
		t.Errorf("prod's approval is %q", got)
	}
}

// Ensure puts back a binding removed by hand, and says the policy is not
// in force until the API server enforces it again.
func TestEnsureRestoresTheBinding(t *testing.T) {
	ctx := testenv.Context(t, time.Minute)
	admin := testenv.Client(t, weirv1.AddToScheme)
	ns := testenv.Namespace(t)
	p := inForce(t, admin, ns)
	if err := admin.Delete(ctx, Binding()); err != nil {
		t.Fatal(err)
	}
	// The API server stops enforcing the policy within a few seconds.
	testenv.Eventually(t, 30*time.Second, "a forged approval admitted", func(ctx context.Context) error {
		if err := NewGate(admin, admin).probe(ctx, p); !errors.Is(err, ErrNotInForce) {
			return fmt.Errorf("probe: %v", err)
		}
		return nil
	})
	if err := NewGate(admin, admin).Ensure(ctx, p); err != nil && !errors.Is(err, ErrNotInForce) {
		t.Fatal(err)
	}
	b := &admissionv1.ValidatingAdmissionPolicyBinding{}
	if err := admin.Get(ctx, client.ObjectKey{Name: PolicyName}, b); err != nil {
		t.Fatalf("the binding is not back: %v", err)
	}
	inForce(t, admin, ns)
}

// inForce creates a Pipeline in ns and waits until a Gate says the policy
// is in force for it.
func inForce(t testing.TB, admin client.Client, ns string) *weirv1.Pipeline {
	t.Helper()
	p := pipeline(ns, "probed", nil)
	if err := admin.Create(context.Background(), p); client.IgnoreAlreadyExists(err) != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "the policy in force", func(ctx context.Context) error {
		return NewGate(admin, admin).Ensure(ctx, p)
	})
	return p
}

func pipeline(ns, name string, annotations map[string]string) *weirv1.Pipeline {
	app := []weirv1.LocalObjectReference{{Name: "web"}}
	return &weirv1.Pipeline{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations},
		Spec: weirv1.PipelineSpec{
			Images: []weirv1.PipelineImage{{Name: "web", Repository: "registry.example.com/web"}},
			Stages: []weirv1.PipelineStage{{Name: "dev", Applications: app}, {Name: "prod", Applications: app, RequireApproval: true}},
		},
	}
}

// wantRefused returns nil when err is the policy's refusal, naming user
// when it is set.
func wantRefused(err error, user string) error {
	switch {
	case err == nil:
		return errors.New("admitted")
	case !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), PolicyName):
		return err
	case user != "" && !strings.Contains(err.Error(), user):
		return err
	}
	return nil
}
