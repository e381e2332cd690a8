package traffic

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
)

// headerRulePrefix begins the name of every rule (Gateway API) or HTTP
// route (Istio) weir adds for a header route.
const headerRulePrefix = "weir-header-"

// gatewayRouter weights the stable and canary backendRefs of an HTTPRoute.
//
// The rules it weights are those whose backendRefs include the stable
// Service; in each, the stable backendRefs get 100-weight and the canary
// ones weight, and a canary backendRef (a copy of the stable one on the
// canary Service) is added where there is none. A header route is one extra
// rule per weighted rule: a copy of it whose matches also require the
// header and whose only backend is the canary. Mirroring adds a
// RequestMirror filter to the weighted rules. Rules whose backendRefs are
// all the canary Service are weir's header rules; Reset removes them and
// weir's mirror filters, and leaves the canary backendRefs at weight 0.
type gatewayRouter struct {
	c     client.Client
	route kindRef
	sides Sides
}

func newGatewayRouter(c client.Client, name string, sides Sides) *gatewayRouter {
	return &gatewayRouter{c: c, sides: sides, route: kindRef{
		gk:  schema.GroupKind{Group: "gateway.networking.k8s.io", Kind: "HTTPRoute"},
		crd: "Gateway API", namespace: sides.Namespace, name: name,
	}}
}

// Check reports a missing HTTPRoute, or one with no rule that routes to
// the stable Service.
func (r *gatewayRouter) Check(ctx context.Context) error {
	u, err := r.route.get(ctx, r.c)
	if err != nil {
		return err
	}
	_, err = r.weighted(u)
	return err
}

// SetWeight sets the stable and canary backendRef weights of the weighted
// rules.
func (r *gatewayRouter) SetWeight(ctx context.Context, weight int32) error {
	if err := checkWeight(weight); err != nil {
		return err
	}
	return r.route.edit(ctx, r.c, func(u *unstructured.Unstructured) error {
		return r.setWeight(u, weight)
	})
}

func (r *gatewayRouter) setWeight(u *unstructured.Unstructured, weight int32) error {
	rules, err := r.weighted(u)
	if err != nil {
		return err
	}
	for _, rule := range rules {
		refs := objects(rule["backendRefs"])
		if !hasRef(refs, r.isCanary) {
			canary := copyMap(refs[indexRef(refs, r.isStable)])
			canary["name"] = r.sides.CanaryService
			refs = append(refs, canary)
		}
		for _, ref := range refs {
			switch {
			case r.isStable(ref):
				ref["weight"] = int64(100 - weight)
			case r.isCanary(ref):
				ref["weight"] = int64(weight)
			}
		}
		rule["backendRefs"] = toList(refs)
	}
	return nil
}

// SetHeaderRoute replaces weir's header rules with one per weighted rule
// for route, or removes them when route is empty.
func (r *gatewayRouter) SetHeaderRoute(ctx context.Context, route *v1alpha1.HeaderRoute) error {
	var conds []condition
	if !emptyRoute(route) {
		var err error
		if conds, err = conditions(route); err != nil {
			return fmt.Errorf("%s: %w", r.route, err)
		}
	}
	return r.route.edit(ctx, r.c, func(u *unstructured.Unstructured) error {
		return r.setHeaderRules(u, conds)
	})
}

func (r *gatewayRouter) setHeaderRules(u *unstructured.Unstructured, conds []condition) error {
	spec := child(u.Object, "spec")
	var kept []map[string]any
	for _, rule := range objects(spec["rules"]) {
		if !r.isHeaderRule(rule) {
			kept = append(kept, rule)
		}
	}
	spec["rules"] = toList(kept)
	if len(conds) == 0 {
		return nil
	}
	weighted, err := r.weighted(u)
	if err != nil {
		return err
	}
	for i, rule := range weighted {
		kept = append(kept, r.headerRule(rule, i, conds))
	}
	spec["rules"] = toList(kept)
	return nil
}

// headerRule is a copy of the weighted rule whose matches also require one
// of conds, with the canary as its only backend and no mirror of weir's.
func (r *gatewayRouter) headerRule(weighted map[string]any, i int, conds []condition) map[string]any {
	rule := copyMap(weighted)
	name := fmt.Sprint(i)
	if n := str(weighted, "name"); n != "" {
		name = n
	}
	rule["name"] = headerRulePrefix + name
	refs := objects(rule["backendRefs"])
	canary := copyMap(refs[indexRef(refs, r.isStable)])
	canary["name"] = r.sides.CanaryService
	delete(canary, "weight")
	rule["backendRefs"] = []any{canary}
	rule["matches"] = toList(gatewayMatches(objects(rule["matches"]), conds))
	setList(rule, "filters", r.withoutMirror(objects(rule["filters"])))
	return rule
}

// gatewayMatches returns every match of the rule (or the match-all one
// when it has none) with each condition's header match added: a request
// must satisfy the rule and one of the conditions.
func gatewayMatches(ruleMatches []map[string]any, conds []condition) []map[string]any {
	if len(ruleMatches) == 0 {
		ruleMatches = []map[string]any{{}}
	}
	var out []map[string]any
	for _, m := range ruleMatches {
		for _, c := range conds {
			match := copyMap(m)
			headers := objects(match["headers"])
			headers = deleteFunc(headers, func(h map[string]any) bool { return strings.EqualFold(str(h, "name"), c.Header) })
			headers = append(headers, gatewayHeaderMatch(c))
			match["headers"] = toList(headers)
			out = append(out, match)
		}
	}
	return out
}

func gatewayHeaderMatch(c condition) map[string]any {
	kind := "Exact"
	if c.Regex {
		kind = "RegularExpression"
	}
	return map[string]any{"name": c.Header, "type": kind, "value": c.Value}
}

// SetMirror sets (or, at 0, removes) a RequestMirror filter to the canary
// on the weighted rules. A percentage below 100 needs the filter's percent
// field (Gateway API v1.2 and later); an HTTPRoute CRD without it makes
// SetMirror fail with ErrUnsupported.
func (r *gatewayRouter) SetMirror(ctx context.Context, percent int32) error {
	if err := checkPercent(percent); err != nil {
		return err
	}
	err := r.route.edit(ctx, r.c, func(u *unstructured.Unstructured) error {
		return r.setMirror(u, percent)
	}, client.FieldValidation("Strict"))
	if unknownMirrorPercent(err) {
		return fmt.Errorf("%s: the installed HTTPRoute CRD has no requestMirror.percent, so it cannot mirror %d%%: %w", r.route, percent, ErrUnsupported)
	}
	return err
}

// unknownMirrorPercent reports whether the API server refused a strictly
// validated write because its HTTPRoute schema has no requestMirror.percent.
func unknownMirrorPercent(err error) bool {
	return (apierrors.IsInvalid(err) || apierrors.IsBadRequest(err)) &&
		strings.Contains(err.Error(), `unknown field`) && strings.Contains(err.Error(), "requestMirror.percent")
}

func (r *gatewayRouter) setMirror(u *unstructured.Unstructured, percent int32) error {
	rules, err := r.weighted(u)
	if err != nil {
		return err
	}
	for _, rule := range rules {
		filters := r.withoutMirror(objects(rule["filters"]))
		if percent > 0 {
			filters = append(filters, r.mirrorFilter(rule, percent))
		}
		setList(rule, "filters", filters)
	}
	return nil
}

func (r *gatewayRouter) mirrorFilter(rule map[string]any, percent int32) map[string]any {
	refs := objects(rule["backendRefs"])
	stable := refs[indexRef(refs, r.isStable)]
	target := map[string]any{"name": r.sides.CanaryService}
	for _, key := range []string{"group", "kind", "namespace", "port"} {
		if v, ok := stable[key]; ok {
			target[key] = v
		}
	}
	mirror := map[string]any{"backendRef": target}
	if percent < 100 {
		mirror["percent"] = int64(percent)
	}
	return map[string]any{"type": "RequestMirror", "requestMirror": mirror}
}

// withoutMirror drops weir's RequestMirror filters (those to the canary).
func (r *gatewayRouter) withoutMirror(filters []map[string]any) []map[string]any {
	return deleteFunc(filters, func(f map[string]any) bool {
		return str(f, "type") == "RequestMirror" && r.isCanary(child(child(f, "requestMirror"), "backendRef"))
	})
}

// Reset sends all traffic to stable and removes weir's header rules and
// mirror filters.
func (r *gatewayRouter) Reset(ctx context.Context) error {
	return r.route.edit(ctx, r.c, func(u *unstructured.Unstructured) error {
		if err := r.setHeaderRules(u, nil); err != nil {
			return err
		}
		if err := r.setMirror(u, 0); err != nil {
			return err
		}
		return r.setWeight(u, 0)
	})
}

// weighted returns the rules whose backendRefs include the stable Service,
// weir's header rules aside; they are maps inside u, for editing in place.
func (r *gatewayRouter) weighted(u *unstructured.Unstructured) ([]map[string]any, error) {
	var out []map[string]any
	for _, rule := range objects(child(u.Object, "spec")["rules"]) {
		if hasRef(objects(rule["backendRefs"]), r.isStable) && !r.isHeaderRule(rule) {
			out = append(out, rule)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no rule whose backendRefs include Service %s/%s", r.route, r.sides.Namespace, r.sides.StableService)
	}
	return out, nil
}

// isHeaderRule reports whether every backendRef of the rule is the canary
// Service: a rule weir added for a header route.
func (r *gatewayRouter) isHeaderRule(rule map[string]any) bool {
	refs := objects(rule["backendRefs"])
	return len(refs) > 0 && !hasRef(refs, func(ref map[string]any) bool { return !r.isCanary(ref) })
}

func (r *gatewayRouter) isStable(ref map[string]any) bool {
	return r.isService(ref, r.sides.StableService)
}

func (r *gatewayRouter) isCanary(ref map[string]any) bool {
	return r.isService(ref, r.sides.CanaryService)
}

// isService reports whether a backendRef (or a mirror's) names the Service
// in the route's namespace.
func (r *gatewayRouter) isService(ref map[string]any, name string) bool {
	group, kind, ns := str(ref, "group"), str(ref, "kind"), str(ref, "namespace")
	return ref != nil && str(ref, "name") == name &&
		(group == "" || group == "core") && (kind == "" || kind == "Service") &&
		(ns == "" || ns == r.sides.Namespace)
}

func hasRef(refs []map[string]any, is func(map[string]any) bool) bool {
	return indexRef(refs, is) >= 0
}

func indexRef(refs []map[string]any, is func(map[string]any) bool) int {
	for i, ref := range refs {
		if is(ref) {
			return i
		}
	}
	return -1
}

// copyMap deep-copies a JSON object.
func copyMap(m map[string]any) map[string]any {
	return (&unstructured.Unstructured{Object: m}).DeepCopy().Object
}

// deleteFunc returns ms without the elements del reports.
func deleteFunc(ms []map[string]any, del func(map[string]any) bool) []map[string]any {
	var out []map[string]any
	for _, m := range ms {
		if !del(m) {
			out = append(out, m)
		}
	}
	return out
}
