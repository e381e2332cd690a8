package traffic

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/api/v1alpha1"
)

// istioRouter weights the stable and canary destinations of the HTTP
// routes of an Istio VirtualService: the routes trafficRouting.istio.routes
// names, or the only one.
//
// A destination is the stable (canary) side when its host is the stable
// (canary) Service: its short name or a longer form of it in the
// VirtualService's namespace ("web-stable.shop.svc.cluster.local"). Where a
// weighted route has no canary destination, weir adds a copy of the stable
// one on the canary host, without the stable one's subset. A header route
// is one HTTP route per weighted route, named "weir-header-<route>" and
// prepended to spec.http: a copy of the weighted route whose matches also
// require a header, sending everything to the canary. Mirroring sets mirror
// and mirrorPercentage on the weighted routes. Reset removes weir's routes
// and mirrors and leaves canary destinations at weight 0.
type istioRouter struct {
	c      client.Client
	vs     kindRef
	routes []string
	sides  Sides
}

func newIstioRouter(c client.Client, spec *v1alpha1.IstioRouting, sides Sides) *istioRouter {
	return &istioRouter{c: c, sides: sides, routes: spec.Routes, vs: kindRef{
		gk:  schema.GroupKind{Group: "networking.istio.io", Kind: "VirtualService"},
		crd: "Istio", namespace: sides.Namespace, name: spec.VirtualService,
	}}
}

// Check reports a missing VirtualService, a named route it lacks, or a
// weighted route without a destination on the stable Service.
func (r *istioRouter) Check(ctx context.Context) error {
	u, err := r.vs.get(ctx, r.c)
	if err != nil {
		return err
	}
	_, err = r.weighted(u)
	return err
}

// SetWeight sets the stable and canary destination weights of the
// weighted routes.
func (r *istioRouter) SetWeight(ctx context.Context, weight int32) error {
	if err := checkWeight(weight); err != nil {
		return err
	}
	return r.vs.edit(ctx, r.c, func(u *unstructured.Unstructured) error {
		return r.setWeight(u, weight)
	})
}

func (r *istioRouter) setWeight(u *unstructured.Unstructured, weight int32) error {
	routes, err := r.weighted(u)
	if err != nil {
		return err
	}
	for _, route := range routes {
		dests := objects(route["route"])
		if indexDest(dests, r.isCanary) < 0 {
			dests = append(dests, map[string]any{"destination": r.canaryDestination(dests)})
		}
		for _, d := range dests {
			switch {
			case r.isStable(d):
				d["weight"] = int64(100 - weight)
			case r.isCanary(d):
				d["weight"] = int64(weight)
			}
		}
		route["route"] = toList(dests)
	}
	return nil
}

// canaryDestination is the stable destination moved to the canary host.
func (r *istioRouter) canaryDestination(dests []map[string]any) map[string]any {
	d := copyMap(child(dests[indexDest(dests, r.isStable)], "destination"))
	d["host"] = r.canaryHost(str(d, "host"))
	delete(d, "subset")
	return d
}

// canaryHost is the stable host with the canary Service's name: the same
// short or long form.
func (r *istioRouter) canaryHost(stableHost string) string {
	return r.sides.CanaryService + strings.TrimPrefix(stableHost, r.sides.StableService)
}

// SetHeaderRoute replaces weir's header routes with one per weighted route
// for route, or removes them when route is empty.
func (r *istioRouter) SetHeaderRoute(ctx context.Context, route *v1alpha1.HeaderRoute) error {
	var conds []condition
	if !emptyRoute(route) {
		var err error
		if conds, err = conditions(route); err != nil {
			return fmt.Errorf("%s: %w", r.vs, err)
		}
	}
	return r.vs.edit(ctx, r.c, func(u *unstructured.Unstructured) error {
		return r.setHeaderRoutes(u, conds)
	})
}

func (r *istioRouter) setHeaderRoutes(u *unstructured.Unstructured, conds []condition) error {
	spec := child(u.Object, "spec")
	kept := deleteFunc(objects(spec["http"]), isIstioHeaderRoute)
	spec["http"] = toList(kept)
	if len(conds) == 0 {
		return nil
	}
	weighted, err := r.weighted(u)
	if err != nil {
		return err
	}
	var added []map[string]any
	for i, route := range weighted {
		added = append(added, r.headerRoute(route, i, conds))
	}
	spec["http"] = toList(append(added, kept...))
	return nil
}

// headerRoute is a copy of the weighted route whose matches also require
// one of conds, sending everything to the canary, without mirroring.
func (r *istioRouter) headerRoute(weighted map[string]any, i int, conds []condition) map[string]any {
	route := copyMap(weighted)
	name := fmt.Sprint(i)
	if n := str(weighted, "name"); n != "" {
		name = n
	}
	route["name"] = headerRulePrefix + name
	route["match"] = toList(istioMatches(objects(route["match"]), conds))
	route["route"] = []any{map[string]any{"destination": r.canaryDestination(objects(route["route"]))}}
	delete(route, "mirror")
	delete(route, "mirrorPercentage")
	return route
}

// istioMatches returns every match of the route (or the match-all one when
// it has none) with each condition's header added: a request must satisfy
// the route and one of the conditions. Istio wants header names in lower
// case.
func istioMatches(routeMatches []map[string]any, conds []condition) []map[string]any {
	if len(routeMatches) == 0 {
		routeMatches = []map[string]any{{}}
	}
	var out []map[string]any
	for _, m := range routeMatches {
		for _, c := range conds {
			match := copyMap(m)
			headers := child(match, "headers")
			if headers == nil {
				headers = map[string]any{}
			}
			kind := "exact"
			if c.Regex {
				kind = "regex"
			}
			headers[strings.ToLower(c.Header)] = map[string]any{kind: c.Value}
			match["headers"] = headers
			out = append(out, match)
		}
	}
	return out
}

// SetMirror sets (or, at 0, removes) mirror and mirrorPercentage on the
// weighted routes. A route that already mirrors elsewhere is refused, and
// its mirror left alone at 0.
func (r *istioRouter) SetMirror(ctx context.Context, percent int32) error {
	if err := checkPercent(percent); err != nil {
		return err
	}
	return r.vs.edit(ctx, r.c, func(u *unstructured.Unstructured) error {
		return r.setMirror(u, percent)
	})
}

func (r *istioRouter) setMirror(u *unstructured.Unstructured, percent int32) error {
	routes, err := r.weighted(u)
	if err != nil {
		return err
	}
	for i, route := range routes {
		mirror := child(route, "mirror")
		if mirror != nil && !r.isCanaryHost(str(mirror, "host")) {
			if percent == 0 {
				continue // not weir's to remove
			}
			return fmt.Errorf("HTTP route %s of %s already mirrors to %s", routeName(route, i), r.vs, str(mirror, "host"))
		}
		if percent == 0 {
			delete(route, "mirror")
			delete(route, "mirrorPercentage")
			continue
		}
		dest := r.canaryDestination(objects(route["route"]))
		mirror = map[string]any{"host": dest["host"]}
		if port, ok := dest["port"]; ok {
			mirror["port"] = port
		}
		route["mirror"] = mirror
		route["mirrorPercentage"] = map[string]any{"value": float64(percent)}
	}
	return nil
}

// Reset sends all traffic to stable and removes weir's header routes and
// mirrors.
func (r *istioRouter) Reset(ctx context.Context) error {
	return r.vs.edit(ctx, r.c, func(u *unstructured.Unstructured) error {
		if err := r.setHeaderRoutes(u, nil); err != nil {
			return err
		}
		if err := r.setMirror(u, 0); err != nil {
			return err
		}
		return r.setWeight(u, 0)
	})
}

// weighted returns the HTTP routes to weight, as maps inside u for editing
// in place: the named ones, or the only one that is not weir's.
func (r *istioRouter) weighted(u *unstructured.Unstructured) ([]map[string]any, error) {
	all := deleteFunc(objects(child(u.Object, "spec")["http"]), isIstioHeaderRoute)
	var routes []map[string]any
	switch {
	case len(r.routes) > 0:
		for _, name := range r.routes {
			i := slices.IndexFunc(all, func(route map[string]any) bool { return str(route, "name") == name })
			if i < 0 {
				return nil, fmt.Errorf("%s has no HTTP route %q", r.vs, name)
			}
			routes = append(routes, all[i])
		}
	case len(all) == 1:
		routes = all
	default:
		return nil, fmt.Errorf("%s has %d HTTP routes; name the ones to weight in spec.strategy.canary.trafficRouting.istio.routes", r.vs, len(all))
	}
	for i, route := range routes {
		if indexDest(objects(route["route"]), r.isStable) < 0 {
			return nil, fmt.Errorf("HTTP route %s of %s has no destination on Service %s/%s", routeName(route, i), r.vs, r.sides.Namespace, r.sides.StableService)
		}
	}
	return routes, nil
}

func isIstioHeaderRoute(route map[string]any) bool {
	return strings.HasPrefix(str(route, "name"), headerRulePrefix)
}

func routeName(route map[string]any, i int) string {
	if n := str(route, "name"); n != "" {
		return fmt.Sprintf("%q", n)
	}
	return fmt.Sprintf("#%d", i)
}

func (r *istioRouter) isStable(d map[string]any) bool {
	return r.isHost(str(child(d, "destination"), "host"), r.sides.StableService)
}

func (r *istioRouter) isCanary(d map[string]any) bool {
	return r.isCanaryHost(str(child(d, "destination"), "host"))
}

func (r *istioRouter) isCanaryHost(host string) bool {
	return r.isHost(host, r.sides.CanaryService)
}

// isHost reports whether an Istio host names the Service in the
// VirtualService's namespace: "web", "web.shop", "web.shop.svc", ...
func (r *istioRouter) isHost(host, service string) bool {
	long := service + "." + r.sides.Namespace
	return host == service || host == long || strings.HasPrefix(host, long+".")
}

func indexDest(dests []map[string]any, is func(map[string]any) bool) int {
	return slices.IndexFunc(dests, is)
}
