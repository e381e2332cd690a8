package apply

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Plan is the order in which a sync applies a set of objects.
type Plan struct {
	// Stages are applied one after the other, each healthy before the next.
	Stages [][]*unstructured.Unstructured
	// OnFailure are the SyncFail hooks, applied when a stage fails.
	OnFailure []*unstructured.Unstructured
	// Skipped are the objects a sync never applies: Skip hooks, and hooks
	// of events weir does not perform.
	Skipped []*unstructured.Unstructured
	// ignored are the annotations of the set that weir does not honour.
	ignored ignoredAnnotations
}

// maxIgnored bounds Plan.Ignored, which goes into conditions and Events.
const maxIgnored = 10

// Applied returns the objects the stages apply: what the sync leaves in
// the cluster when it succeeds, before hooks deleted by their policies.
func (p Plan) Applied() []*unstructured.Unstructured {
	return slices.Concat(p.Stages...)
}

// NewPlan splits a set into the order it is applied in (see Directives):
// first its CustomResourceDefinitions and Namespaces, then the PreSync
// hooks, then the other objects and Sync hooks, then the PostSync hooks;
// within each phase one stage per sync wave, lowest first. Objects keep
// their order within a stage; empty stages are left out. SyncFail hooks
// and skipped objects are set apart. The error names every object whose
// annotations are invalid.
func NewPlan(objs []*unstructured.Unstructured) (Plan, error) {
	var (
		plan   Plan
		first  []*unstructured.Unstructured
		stages = map[stageKey][]*unstructured.Unstructured{}
		errs   []*ObjectError
	)
	for _, obj := range objs {
		d, err := ReadDirectives(obj)
		if err != nil {
			errs = append(errs, objectError(obj, err))
			continue
		}
		plan.ignored.add(d.Ignored, obj)
		switch {
		case d.Hook == Skip:
			plan.Skipped = append(plan.Skipped, obj)
		case d.Hook == SyncFail:
			plan.OnFailure = append(plan.OnFailure, obj)
		case d.Hook == NoHook && (isCRD(obj) || isNamespace(obj)):
			first = append(first, obj)
		default:
			key := stageKey{phase: phaseRank(d.Hook), wave: d.Wave}
			stages[key] = append(stages[key], obj)
		}
	}
	if err := setError("plan", len(objs), errs); err != nil {
		return Plan{}, err
	}
	if len(first) > 0 {
		plan.Stages = append(plan.Stages, first)
	}
	for _, key := range slices.SortedFunc(maps.Keys(stages), stageKey.compare) {
		plan.Stages = append(plan.Stages, stages[key])
	}
	return plan, nil
}

// stageKey orders stages: by phase, then by wave.
type stageKey struct{ phase, wave int }

func (a stageKey) compare(b stageKey) int {
	return cmp.Or(cmp.Compare(a.phase, b.phase), cmp.Compare(a.wave, b.wave))
}

func phaseRank(h Hook) int {
	switch h {
	case PreSync:
		return 0
	case PostSync:
		return 2
	default:
		return 1
	}
}

// ignoredAnnotations collects the ignored annotations of a set, each with
// the objects that carry it, in the order first seen.
type ignoredAnnotations struct {
	order   []string
	objects map[string][]*unstructured.Unstructured
}

func (ia *ignoredAnnotations) add(annotations []string, obj *unstructured.Unstructured) {
	if ia.objects == nil {
		ia.objects = map[string][]*unstructured.Unstructured{}
	}
	for _, a := range annotations {
		if _, seen := ia.objects[a]; !seen {
			ia.order = append(ia.order, a)
		}
		ia.objects[a] = append(ia.objects[a], obj)
	}
}

// Ignored names each annotation of the set that weir does not honour, once,
// with an object that carries it (as it is now: normalized, it names its
// namespace), at most maxIgnored entries, as
// "argocd.argoproj.io/compare-options: IgnoreExtraneous (ConfigMap shop/a
// and 2 more)".
func (p Plan) Ignored() []string {
	ia := p.ignored
	var out []string
	for i, a := range ia.order {
		if i == maxIgnored {
			out = append(out, fmt.Sprintf("and %d more", len(ia.order)-maxIgnored))
			break
		}
		refs := ia.objects[a]
		where := Ref(refs[0]).String()
		if len(refs) > 1 {
			where += fmt.Sprintf(" and %d more", len(refs)-1)
		}
		out = append(out, fmt.Sprintf("%s (%s)", a, where))
	}
	return out
}

// IgnoredSummary is one sentence naming the ignored annotations of a plan,
// or "" when there are none.
func (p Plan) IgnoredSummary() string {
	ignored := p.Ignored()
	if len(ignored) == 0 {
		return ""
	}
	return "Ignored annotations weir does not support: " + strings.Join(ignored, "; ")
}
