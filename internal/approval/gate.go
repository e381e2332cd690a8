package approval

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
)

// weir keeps the policy and its binding, and proves it in force with a
// dry-run patch of a Pipeline, which writes nothing.
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingadmissionpolicies;validatingadmissionpolicybindings,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=weir.dev,resources=pipelines,verbs=patch

// Gate keeps the approval policy and its binding in place.
type Gate struct {
	client client.Client
	// live reads from the API server: a cache may still hold a policy
	// just deleted.
	live client.Reader
}

// NewGate returns a Gate that writes with c and reads with live.
func NewGate(c client.Client, live client.Reader) *Gate { return &Gate{client: c, live: live} }

// Ensure writes the policy and its binding where the cluster lacks them
// or holds them otherwise, and returns nil once the API server enforces
// them: a dry run that sets an approval of p in a name not weir's is
// refused. The API server takes a few seconds to enforce a policy just
// written; until then Ensure returns ErrNotInForce.
func (g *Gate) Ensure(ctx context.Context, p *weirv1.Pipeline) error {
	if err := g.inPlace(ctx); err != nil {
		return err
	}
	return g.probe(ctx, p)
}

// ErrNotInForce says that the API server does not enforce the policy yet.
var ErrNotInForce = errors.New("the ValidatingAdmissionPolicy " + PolicyName + " is not in force yet")

// probeUser is the name a probe approves in: no user the API server
// authenticates is called so.
const probeUser = "weir.dev/approval-probe"

// probe asks, in a dry run, to approve in probeUser's name on p.
func (g *Gate) probe(ctx context.Context, p *weirv1.Pipeline) error {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // never fails
	value := weirv1.ApprovalValue("probe-"+hex.EncodeToString(b), probeUser)
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{weirv1.ApprovalAnnotation("probe"): value}}})
	if err != nil {
		return err
	}
	err = g.client.Patch(ctx, p.DeepCopy(), client.RawPatch(types.MergePatchType, patch), client.DryRunAll)
	switch {
	case err == nil:
		return ErrNotInForce
	case apierrors.IsForbidden(err) && strings.Contains(err.Error(), PolicyName):
		return nil
	}
	return fmt.Errorf("dry-run an approval of Pipeline %s/%s: %w", p.Namespace, p.Name, err)
}

// inPlace writes the policy and its binding unless the API server holds
// them as Policy and Binding say.
func (g *Gate) inPlace(ctx context.Context) error {
	policy, binding := Policy(), Binding()
	livePolicy, liveBinding := &admissionv1.ValidatingAdmissionPolicy{}, &admissionv1.ValidatingAdmissionPolicyBinding{}
	for _, o := range []struct {
		want, live         client.Object
		wantSpec, liveSpec any
	}{{policy, livePolicy, &policy.Spec, &livePolicy.Spec}, {binding, liveBinding, &binding.Spec, &liveBinding.Spec}} {
		err := g.live.Get(ctx, client.ObjectKeyFromObject(o.want), o.live)
		if client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("read %s %s: %w", o.want.GetObjectKind().GroupVersionKind().Kind, o.want.GetName(), err)
		}
		if !apierrors.IsNotFound(err) && equality.Semantic.DeepDerivative(o.wantSpec, o.liveSpec) {
			continue
		}
		if err := g.apply(ctx, o.want); err != nil {
			return err
		}
	}
	return nil
}

// apply writes obj with server-side apply, as weir's.
func (g *Gate) apply(ctx context.Context, obj client.Object) error {
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
