package traffic

import (
	"context"
	"fmt"
	"maps"
	"strconv"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
)

// Annotations of the NGINX Ingress controller's canary Ingress.
const (
	nginxCanary        = "nginx.ingress.kubernetes.io/canary"
	nginxWeight        = "nginx.ingress.kubernetes.io/canary-weight"
	nginxByHeader      = "nginx.ingress.kubernetes.io/canary-by-header"
	nginxByHeaderValue = "nginx.ingress.kubernetes.io/canary-by-header-value"
	nginxByHeaderRegex = "nginx.ingress.kubernetes.io/canary-by-header-pattern"
	nginxByCookie      = "nginx.ingress.kubernetes.io/canary-by-cookie"
	// ingressClassAnnotation is the class annotation older Ingresses use
	// instead of spec.ingressClassName; NGINX needs it on the canary too.
	ingressClassAnnotation = "kubernetes.io/ingress.class"
)

// nginxHeaderKeys are the annotations a header route sets.
var nginxHeaderKeys = []string{nginxByHeader, nginxByHeaderValue, nginxByHeaderRegex, nginxByCookie}

// nginxKeptKeys are the annotations a canary Ingress keeps when rebuilt.
var nginxKeptKeys = []string{nginxWeight, nginxByHeader, nginxByHeaderValue, nginxByHeaderRegex, nginxByCookie}

// nginxRouter writes "<ingress>-canary", a copy of the user's Ingress whose
// backends on the stable Service are moved to the canary Service (paths to
// other Services are left out), with the NGINX Ingress controller's canary
// annotations. NGINX takes every other setting from the user's Ingress, so
// of its annotations only the ingress class is copied. The canary Ingress
// is labelled with the Rollout and owned by it; every call rebuilds it from
// the user's Ingress, keeping the weight and header route it had. NGINX
// cannot mirror; Reset deletes the canary Ingress.
type nginxRouter struct {
	c       client.Client
	rollout *v1alpha1.Rollout
	ingress string
	sides   Sides
}

func newNGINXRouter(c client.Client, ro *v1alpha1.Rollout, ingress string, sides Sides) *nginxRouter {
	return &nginxRouter{c: c, rollout: ro, ingress: ingress, sides: sides}
}

// Check reports a missing Ingress, one with no backend on the stable
// Service, or a "<ingress>-canary" that is not weir's.
func (r *nginxRouter) Check(ctx context.Context) error {
	stable, err := r.stableIngress(ctx)
	if err != nil {
		return err
	}
	if _, err := r.canaryIngress(stable, nil); err != nil {
		return err
	}
	_, err = r.liveCanary(ctx)
	return err
}

// SetWeight sets the canary-weight annotation.
func (r *nginxRouter) SetWeight(ctx context.Context, weight int32) error {
	if err := checkWeight(weight); err != nil {
		return err
	}
	return r.update(ctx, func(a map[string]string) { a[nginxWeight] = strconv.Itoa(int(weight)) })
}

// SetHeaderRoute sets the canary-by-header and canary-by-cookie
// annotations (see nginxHeaderAnnotations), or removes them when route is
// empty.
func (r *nginxRouter) SetHeaderRoute(ctx context.Context, route *v1alpha1.HeaderRoute) error {
	header, err := nginxHeaderAnnotations(route)
	if err != nil {
		return fmt.Errorf("Ingress %s/%s: %w", r.sides.Namespace, r.canaryName(), err)
	}
	return r.update(ctx, func(a map[string]string) {
		for _, key := range nginxHeaderKeys {
			delete(a, key)
		}
		maps.Copy(a, header)
	})
}

// nginxHeaderAnnotations maps a header route onto NGINX's canary
// annotations, which hold at most one header and one cookie (a request
// with either goes to the canary):
//
//   - header with value: canary-by-header and canary-by-header-value;
//   - header with regex: canary-by-header and canary-by-header-pattern,
//     the regex anchored so that it must match the whole value;
//   - header with neither: canary-by-header-pattern ".*" (any value);
//   - cookie: canary-by-cookie, which NGINX matches on the value "always"
//     only, so a cookie match with another value or a regex is refused.
//
// Anything it cannot express wraps ErrUnsupported.
func nginxHeaderAnnotations(route *v1alpha1.HeaderRoute) (map[string]string, error) {
	a := map[string]string{}
	if emptyRoute(route) {
		return a, nil
	}
	var headers, cookies int
	for i, m := range route.Matches {
		if err := validMatch(m); err != nil {
			return nil, fmt.Errorf("header route match %d: %w", i, err)
		}
		if m.Cookie != "" {
			cookies++
			if m.Regex != "" || m.Value != "" && m.Value != "always" {
				return nil, fmt.Errorf("header route match %d: NGINX routes by cookie %q only when its value is \"always\": %w", i, m.Cookie, ErrUnsupported)
			}
			a[nginxByCookie] = m.Cookie
			continue
		}
		headers++
		a[nginxByHeader] = m.Header
		switch {
		case m.Value != "":
			a[nginxByHeaderValue] = m.Value
		case m.Regex != "":
			a[nginxByHeaderRegex] = "^(?:" + m.Regex + ")$"
		default:
			a[nginxByHeaderRegex] = anyValue
		}
	}
	if headers > 1 || cookies > 1 {
		return nil, fmt.Errorf("NGINX routes by at most one header and one cookie, not %d headers and %d cookies: %w", headers, cookies, ErrUnsupported)
	}
	return a, nil
}

// SetMirror accepts 0 (nothing to remove) and refuses any other percentage
// with ErrUnsupported.
func (r *nginxRouter) SetMirror(_ context.Context, percent int32) error {
	if percent == 0 {
		return nil
	}
	return fmt.Errorf("Ingress %s/%s: NGINX canary mirroring: %w", r.sides.Namespace, r.ingress, ErrUnsupported)
}

// Reset deletes the canary Ingress.
func (r *nginxRouter) Reset(ctx context.Context) error {
	live, err := r.liveCanary(ctx)
	if err != nil || live == nil {
		return err
	}
	if err := r.c.Delete(ctx, live, client.Preconditions{UID: &live.UID}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete Ingress %s/%s: %w", r.sides.Namespace, r.canaryName(), err)
	}
	return nil
}

// update rebuilds the canary Ingress from the user's Ingress with the
// canary annotations it has (weight 0 when new) as change leaves them, and
// applies it.
func (r *nginxRouter) update(ctx context.Context, change func(map[string]string)) error {
	stable, err := r.stableIngress(ctx)
	if err != nil {
		return err
	}
	live, err := r.liveCanary(ctx)
	if err != nil {
		return err
	}
	canary := map[string]string{nginxWeight: "0"}
	if live != nil {
		for _, key := range nginxKeptKeys {
			if v, ok := live.Annotations[key]; ok {
				canary[key] = v
			}
		}
	}
	change(canary)
	desired, err := r.canaryIngress(stable, canary)
	if err != nil {
		return err
	}
	return r.apply(ctx, desired)
}

func (r *nginxRouter) apply(ctx context.Context, ing *networkingv1.Ingress) error {
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ing)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: obj}
	delete(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	u.SetGroupVersionKind(networkingv1.SchemeGroupVersion.WithKind("Ingress"))
	if err := r.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("apply Ingress %s/%s: %w", ing.Namespace, ing.Name, err)
	}
	return nil
}

// canaryIngress builds the canary Ingress from the user's: its spec with
// the stable Service's backends moved to the canary Service and the others
// left out, and the annotations given plus canary: "true".
func (r *nginxRouter) canaryIngress(stable *networkingv1.Ingress, annotations map[string]string) (*networkingv1.Ingress, error) {
	owners, labels := ownedBy(r.rollout)
	labels[v1alpha1.RoleLabel] = "canary"
	a := map[string]string{nginxCanary: "true"}
	maps.Copy(a, annotations)
	if class, ok := stable.Annotations[ingressClassAnnotation]; ok {
		a[ingressClassAnnotation] = class
	}
	spec := stable.Spec.DeepCopy()
	if !r.moveBackend(spec.DefaultBackend) {
		spec.DefaultBackend = nil
	}
	found := spec.DefaultBackend != nil
	var rules []networkingv1.IngressRule
	for _, rule := range spec.Rules {
		if rule.HTTP == nil {
			continue
		}
		var paths []networkingv1.HTTPIngressPath
		for _, p := range rule.HTTP.Paths {
			if r.moveBackend(&p.Backend) {
				paths = append(paths, p)
			}
		}
		if len(paths) > 0 {
			rule.HTTP.Paths = paths
			rules = append(rules, rule)
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("Ingress %s/%s has no backend on Service %s/%s", stable.Namespace, stable.Name, r.sides.Namespace, r.sides.StableService)
	}
	spec.Rules = rules
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{
			Name: r.canaryName(), Namespace: r.sides.Namespace,
			Labels: labels, Annotations: a, OwnerReferences: owners,
		},
		Spec: *spec,
	}, nil
}

// moveBackend points a backend on the stable Service at the canary Service
// and reports whether it was on the stable Service.
func (r *nginxRouter) moveBackend(b *networkingv1.IngressBackend) bool {
	if b == nil || b.Service == nil || b.Service.Name != r.sides.StableService {
		return false
	}
	b.Service.Name = r.sides.CanaryService
	return true
}

func (r *nginxRouter) canaryName() string { return r.ingress + "-canary" }

func (r *nginxRouter) stableIngress(ctx context.Context) (*networkingv1.Ingress, error) {
	ing := &networkingv1.Ingress{}
	if err := r.c.Get(ctx, client.ObjectKey{Namespace: r.sides.Namespace, Name: r.ingress}, ing); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("Ingress %s/%s not found", r.sides.Namespace, r.ingress)
		}
		return nil, fmt.Errorf("read Ingress %s/%s: %w", r.sides.Namespace, r.ingress, err)
	}
	return ing, nil
}

// liveCanary reads the canary Ingress: nil when there is none, an error
// when it is not weir's.
func (r *nginxRouter) liveCanary(ctx context.Context) (*networkingv1.Ingress, error) {
	ing := &networkingv1.Ingress{}
	err := r.c.Get(ctx, client.ObjectKey{Namespace: r.sides.Namespace, Name: r.canaryName()}, ing)
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read Ingress %s/%s: %w", r.sides.Namespace, r.canaryName(), err)
	}
	what := fmt.Sprintf("Ingress %s/%s", r.sides.Namespace, r.canaryName())
	return ing, CheckOwned(ing, what, r.rollout.Name)
}
