package driftguard

import (
	"context"
	"fmt"
	"slices"
	"sync"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
)

// weir keeps the policy and its bindings, and learns its own user.
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingadmissionpolicies;validatingadmissionpolicybindings,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=selfsubjectreviews,verbs=create

// Options configure a Guard.
type Options struct {
	// PreventByDefault protects the objects of Applications that leave
	// spec.sync.preventDrift unset.
	PreventByDefault bool
	// BreakGlassGroups may change protected objects by hand; none is
	// DefaultBreakGlassGroup.
	BreakGlassGroups []string
}

// Guard keeps the policy, and its bindings for each Application that
// prevents drift. Every method is safe for concurrent use.
type Guard struct {
	// client writes, and reads from a cache, so that a reconcile that
	// changes nothing costs no request.
	client client.Client
	// live reads from the API server, where the cache may lag.
	live client.Reader
	opts Options

	// mu orders the writes: a binding is never written while the policy
	// is being deleted as unused.
	mu sync.Mutex
	// policy is Policy for weir's own user, learned at the first use.
	policy *admissionv1.ValidatingAdmissionPolicy
}

// NewGuard returns a Guard that writes with c, reads what it wrote from
// c's cache, and from live where the cache may lag.
func NewGuard(c client.Client, live client.Reader, opts Options) *Guard {
	return &Guard{client: c, live: live, opts: opts}
}

// Guard protects app's objects when its spec, or the default, says to
// prevent drift, and stops protecting them otherwise. It writes only what
// differs from what the cluster holds.
func (g *Guard) Guard(ctx context.Context, app *weirv1.Application) error {
	key := types.NamespacedName{Namespace: app.Namespace, Name: app.Name}
	if !app.Spec.Sync.PreventDriftOr(g.opts.PreventByDefault) {
		return g.Forget(ctx, key)
	}
	policy, err := g.policyForSelf(ctx)
	if err != nil {
		return err
	}
	bindings := Bindings(app)
	if current, err := g.inPlace(ctx, policy, bindings); err != nil || current {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	// The policy goes with the bindings, whatever the cache says of it: a
	// Forget may have just deleted it.
	if err := g.apply(ctx, policy); err != nil {
		return err
	}
	for _, b := range bindings {
		if err := g.apply(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// inPlace reports whether the cache holds policy and bindings as they are.
func (g *Guard) inPlace(ctx context.Context, policy *admissionv1.ValidatingAdmissionPolicy, bindings []*admissionv1.ValidatingAdmissionPolicyBinding) (bool, error) {
	livePolicy := &admissionv1.ValidatingAdmissionPolicy{}
	if current, err := g.current(ctx, policy, livePolicy, &policy.Spec, &livePolicy.Spec); err != nil || !current {
		return false, err
	}
	for _, b := range bindings {
		live := &admissionv1.ValidatingAdmissionPolicyBinding{}
		if current, err := g.current(ctx, b, live, &b.Spec, &live.Spec); err != nil || !current {
			return false, err
		}
	}
	return true, nil
}

// Forget stops protecting the objects of the Application key: its
// bindings are deleted, and the policy with the last binding.
func (g *Guard) Forget(ctx context.Context, key types.NamespacedName) error {
	var found []admissionv1.ValidatingAdmissionPolicyBinding
	for _, name := range BindingNames(key) {
		b := admissionv1.ValidatingAdmissionPolicyBinding{}
		err := g.client.Get(ctx, client.ObjectKey{Name: name}, &b)
		if client.IgnoreNotFound(err) != nil {
			return err
		}
		if err == nil {
			found = append(found, b)
		}
	}
	if len(found) == 0 {
		return nil
	}
	return g.remove(ctx, found)
}

// Start removes, once weir is elected, the bindings of the Applications
// deleted while it was not running; those of the Applications that exist
// are put right by their reconciles. It logs what it cannot remove, and
// returns at once.
func (g *Guard) Start(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithName("driftguard")
	bindings, err := g.bindings(ctx)
	if err != nil {
		log.Error(err, "cannot list the bindings of the drift prevention policy")
		return nil
	}
	for _, b := range bindings {
		key := types.NamespacedName{Namespace: b.Spec.ParamRef.Namespace, Name: b.Spec.ParamRef.Name}
		err := g.live.Get(ctx, key, &weirv1.Application{})
		if apierrors.IsNotFound(err) {
			err = g.remove(ctx, []admissionv1.ValidatingAdmissionPolicyBinding{b})
		}
		if err != nil {
			log.Error(err, "cannot remove the drift prevention of a deleted Application", "application", key)
		}
	}
	return nil
}

// policyForSelf is Policy for weir's own user, which it learns once.
func (g *Guard) policyForSelf(ctx context.Context) (*admissionv1.ValidatingAdmissionPolicy, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.policy != nil {
		return g.policy, nil
	}
	self, err := SelfUser(ctx, g.client)
	if err != nil {
		return nil, err
	}
	g.policy = Policy(self, g.opts.BreakGlassGroups)
	return g.policy, nil
}

// current reads want's live copy from the cache into live, and reports
// whether its spec (liveSpec, within live) has everything want's spec
// (wantSpec) sets.
func (g *Guard) current(ctx context.Context, want, live client.Object, wantSpec, liveSpec any) (bool, error) {
	err := g.client.Get(ctx, client.ObjectKeyFromObject(want), live)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil && equality.Semantic.DeepDerivative(wantSpec, liveSpec), err
}

// apply writes obj with server-side apply, as weir's.
func (g *Guard) apply(ctx context.Context, obj client.Object) error {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	cfg := client.ApplyConfigurationFromUnstructured(&unstructured.Unstructured{Object: u})
	if err := g.client.Apply(ctx, cfg, client.FieldOwner(apply.DefaultFieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("write %s %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), err)
	}
	return nil
}

// remove deletes bindings, and the policy when no other binding is left.
func (g *Guard) remove(ctx context.Context, bindings []admissionv1.ValidatingAdmissionPolicyBinding) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	removed := map[string]bool{}
	for _, b := range bindings {
		if err := g.client.Delete(ctx, &b); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("delete ValidatingAdmissionPolicyBinding %s: %w", b.Name, err)
		}
		removed[b.Name] = true
	}
	left, err := g.bindings(ctx)
	if err != nil || slices.ContainsFunc(left, func(b admissionv1.ValidatingAdmissionPolicyBinding) bool { return !removed[b.Name] }) {
		return err
	}
	policy := &admissionv1.ValidatingAdmissionPolicy{}
	policy.Name = PolicyName
	if err := g.client.Delete(ctx, policy); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete ValidatingAdmissionPolicy %s: %w", PolicyName, err)
	}
	return nil
}

// bindings are the bindings of the policy, read from the API server.
func (g *Guard) bindings(ctx context.Context) ([]admissionv1.ValidatingAdmissionPolicyBinding, error) {
	var list admissionv1.ValidatingAdmissionPolicyBindingList
	if err := g.live.List(ctx, &list, client.MatchingLabels{managedByLabel: "weir"}); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(list.Items, func(b admissionv1.ValidatingAdmissionPolicyBinding) bool {
		return b.Spec.PolicyName != PolicyName || b.Spec.ParamRef == nil
	}), nil
}

// SelfUser is the user the API server knows c's requests by.
func SelfUser(ctx context.Context, c client.Client) (string, error) {
	review := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, review); err != nil {
		return "", fmt.Errorf("learn weir's own user with a SelfSubjectReview: %w", err)
	}
	return review.Status.UserInfo.Username, nil
}
