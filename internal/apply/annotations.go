package apply

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/weir/api/v1alpha1"
)

// Annotations of Argo CD, Flux and Helm that weir honours in place of its
// own, so that objects written for those tools keep their meaning.
const (
	argoSyncWave         = "argocd.argoproj.io/sync-wave"
	argoHook             = "argocd.argoproj.io/hook"
	argoHookDeletePolicy = "argocd.argoproj.io/hook-delete-policy"
	argoSyncOptions      = "argocd.argoproj.io/sync-options"
	fluxPrune            = "kustomize.toolkit.fluxcd.io/prune"
	fluxForce            = "kustomize.toolkit.fluxcd.io/force"
	fluxSSA              = "kustomize.toolkit.fluxcd.io/ssa"
	helmHook             = "helm.sh/hook"
	helmHookWeight       = "helm.sh/hook-weight"
	helmHookDeletePolicy = "helm.sh/hook-delete-policy"
	helmResourcePolicy   = "helm.sh/resource-policy"
)

// foreignPrefixes start the annotations of tools weir replaces: any of
// them that weir does not honour is reported, never silently dropped.
var foreignPrefixes = []string{"argocd.argoproj.io/", "kustomize.toolkit.fluxcd.io/"}

// Hook is the phase of a sync that a hook object belongs to.
type Hook string

// Hook phases, as Argo CD names them.
const (
	// NoHook: the object is applied in its wave like any other.
	NoHook Hook = ""
	// PreSync hooks are applied, and healthy, before every other wave.
	PreSync Hook = "PreSync"
	// Sync hooks are applied in their wave, like other objects.
	Sync Hook = "Sync"
	// PostSync hooks are applied once every other wave is healthy.
	PostSync Hook = "PostSync"
	// SyncFail hooks are applied only when a sync fails.
	SyncFail Hook = "SyncFail"
	// Skip: the object is never applied (also Argo CD's PostDelete, and
	// Helm's test, delete and rollback hooks, which weir never runs).
	Skip Hook = "Skip"
)

// DeletePolicy says when weir deletes a hook object.
type DeletePolicy string

// Delete policies, as Argo CD names them (Helm's before-hook-creation,
// hook-succeeded and hook-failed are read as these).
const (
	// BeforeHookCreation: the previous hook object is deleted before the
	// sync creates it again. The default.
	BeforeHookCreation DeletePolicy = "BeforeHookCreation"
	// HookSucceeded: the hook is deleted once its wave is healthy.
	HookSucceeded DeletePolicy = "HookSucceeded"
	// HookFailed: the hook is deleted when its wave fails.
	HookFailed DeletePolicy = "HookFailed"
)

// Directives are what an object's annotations ask of a sync: weir's own
// (weir.dev/...), or else the Argo CD, Flux or Helm ones weir honours in
// their place.
type Directives struct {
	// Wave orders the object within its phase: lower waves first.
	Wave int
	// Hook is the phase the object is a hook of; NoHook for most objects.
	Hook Hook
	// DeletePolicies of a hook; BeforeHookCreation when it names none.
	DeletePolicies []DeletePolicy
	// PruneOptOut names the annotation that keeps the object in the
	// cluster when it leaves Git, as "key: value"; "" when none does.
	PruneOptOut string
	// Replace deletes and recreates the object when an apply fails on an
	// immutable field.
	Replace bool
	// CreateOnly applies the object only when it does not exist (Flux's
	// ssa: IfNotPresent).
	CreateOnly bool
	// Ignored lists the annotations, as "key: value", that weir does not
	// honour: the sync goes on without them.
	Ignored []string
}

// existing is what a sync does to an object that already exists.
type existing int

const (
	// updateExisting: the object is applied over the live one.
	updateExisting existing = iota
	// keepExisting: the live object is left as it is (CreateOnly).
	keepExisting
	// recreateExisting: the live object is deleted and the object created
	// anew (a hook deleted before it is created again).
	recreateExisting
)

// ifExists says what a sync does to the object when it exists. It is the
// one place that decides which objects are only ever created, kept or
// created anew rather than updated, for Apply, Validate, Diff and Drift.
func (d Directives) ifExists() existing {
	switch {
	case d.CreateOnly:
		return keepExisting
	case d.Deletes(BeforeHookCreation):
		return recreateExisting
	default:
		return updateExisting
	}
}

// Deletes reports whether the object is a hook deleted by policy p.
func (d Directives) Deletes(p DeletePolicy) bool {
	return d.Hook != NoHook && slices.Contains(d.DeletePolicies, p)
}

// ReadDirectives reads what obj's annotations ask of a sync. For each
// directive, weir's own annotation wins over Argo CD's, and Argo CD's over
// Helm's. The error names an annotation whose value is not what weir's own
// must be (a wave that is not an integer, an unknown weir.dev/hook);
// foreign values weir does not honour are listed in Ignored instead.
//
// Every directive is read even when one is invalid, so that a prune still
// sees an opt-out beside a broken wave.
func ReadDirectives(obj *unstructured.Unstructured) (Directives, error) {
	r := reader{annotations: obj.GetAnnotations(), read: map[string]bool{}}
	var d Directives
	var hookErr, waveErr error
	d.Hook, hookErr = r.hook()
	d.Wave, waveErr = r.wave(d.Hook)
	if d.Hook != NoHook {
		d.DeletePolicies = r.deletePolicies()
	}
	if r.value(v1alpha1.PruneAnnotation) == "disabled" {
		d.PruneOptOut = v1alpha1.PruneAnnotation + ": disabled"
	}
	r.syncOptions(&d)
	r.flux(&d)
	if r.value(helmResourcePolicy) == "keep" {
		d.PruneOptOut = cmp.Or(d.PruneOptOut, helmResourcePolicy+": keep")
	}
	d.Ignored = append(r.ignored, r.unread()...)
	return d, cmp.Or(hookErr, waveErr)
}

// reader reads annotations, remembering which it read and which values
// it could not honour.
type reader struct {
	annotations map[string]string
	read        map[string]bool
	ignored     []string
	// hookKey is the annotation that made the object a hook.
	hookKey string
}

// value returns the trimmed value of an annotation and marks it read.
func (r *reader) value(key string) string {
	r.read[key] = true
	return strings.TrimSpace(r.annotations[key])
}

// first returns the first of keys the object carries, and its value. The
// others are aliases it shadows: read, not ignored.
func (r *reader) first(keys ...string) (string, string, bool) {
	for _, key := range keys {
		r.read[key] = true
	}
	for _, key := range keys {
		if _, ok := r.annotations[key]; ok {
			return key, r.value(key), true
		}
	}
	return "", "", false
}

func (r *reader) ignore(key, value string) {
	r.ignored = append(r.ignored, key+": "+value)
}

// unread lists the foreign annotations nothing read, as "key: value".
func (r *reader) unread() []string {
	var out []string
	for _, key := range slices.Sorted(maps.Keys(r.annotations)) {
		if r.read[key] || !slices.ContainsFunc(foreignPrefixes, func(p string) bool { return strings.HasPrefix(key, p) }) {
			continue
		}
		out = append(out, key+": "+r.annotations[key])
	}
	return out
}

var hooks = []Hook{PreSync, Sync, PostSync, SyncFail, Skip}

// hook reads weir.dev/hook, argocd.argoproj.io/hook or helm.sh/hook.
func (r *reader) hook() (Hook, error) {
	key, value, ok := r.first(v1alpha1.HookAnnotation, argoHook, helmHook)
	r.hookKey = key
	switch {
	case !ok:
		return NoHook, nil
	case key == helmHook:
		return helmPhase(value), nil
	case key == v1alpha1.HookAnnotation:
		if !slices.Contains(hooks, Hook(value)) {
			return NoHook, fmt.Errorf("annotation %s: %q is not one of PreSync, Sync, PostSync, SyncFail, Skip", key, value)
		}
		return Hook(value), nil
	}
	// Argo CD allows several phases; weir runs a hook in one, the first.
	phases := splitList(value)
	for i, phase := range phases {
		if slices.Contains(hooks, Hook(phase)) {
			if i != 0 || len(phases) > 1 {
				r.ignore(key, value+" (run as "+phase+" only)")
			}
			return Hook(phase), nil
		}
	}
	r.ignore(key, value+" (not applied)")
	return Skip, nil
}

// helmPhase maps Helm hook events to the phase weir runs them in, as Argo
// CD does; weir performs no test, delete or rollback.
func helmPhase(value string) Hook {
	events := splitList(value)
	has := func(names ...string) bool {
		return slices.ContainsFunc(events, func(e string) bool { return slices.Contains(names, e) })
	}
	switch {
	case has("test", "test-success", "test-failure"):
		return Skip
	case has("pre-install", "pre-upgrade", "crd-install"):
		return PreSync
	case has("post-install", "post-upgrade"):
		return PostSync
	default:
		return Skip
	}
}

// wave reads weir.dev/sync-wave, argocd.argoproj.io/sync-wave, or for a
// Helm hook its helm.sh/hook-weight.
func (r *reader) wave(hook Hook) (int, error) {
	keys := []string{v1alpha1.SyncWaveAnnotation, argoSyncWave}
	if r.hookKey == helmHook && hook != Skip {
		keys = append(keys, helmHookWeight)
	}
	key, value, ok := r.first(keys...)
	if !ok {
		return 0, nil
	}
	wave, err := strconv.Atoi(value)
	if err != nil {
		return 0, fmt.Errorf("annotation %s: %q is not an integer", key, r.annotations[key])
	}
	return wave, nil
}

// deletePolicies reads a hook's delete policies.
func (r *reader) deletePolicies() []DeletePolicy {
	key, value, ok := r.first(v1alpha1.HookDeletePolicyAnnotation, argoHookDeletePolicy, helmHookDeletePolicy)
	if !ok {
		return []DeletePolicy{BeforeHookCreation}
	}
	var policies []DeletePolicy
	for _, name := range splitList(value) {
		if p, ok := deletePolicy(name); ok {
			policies = append(policies, p)
		} else {
			r.ignore(key, name)
		}
	}
	return policies
}

func deletePolicy(name string) (DeletePolicy, bool) {
	switch name {
	case string(BeforeHookCreation), "before-hook-creation":
		return BeforeHookCreation, true
	case string(HookSucceeded), "hook-succeeded":
		return HookSucceeded, true
	case string(HookFailed), "hook-failed":
		return HookFailed, true
	}
	return "", false
}

// syncOptions reads weir.dev/sync-options and
// argocd.argoproj.io/sync-options. Options that ask for what weir always
// does (server-side apply, prune last, never delete on the Application's
// deletion) are honoured by doing nothing.
func (r *reader) syncOptions(d *Directives) {
	for _, key := range []string{v1alpha1.SyncOptionsAnnotation, argoSyncOptions} {
		for _, option := range splitList(r.value(key)) {
			switch option {
			case "Prune=false", "Prune=confirm":
				d.PruneOptOut = cmp.Or(d.PruneOptOut, key+": "+option)
			case "Replace=true", "Force=true":
				d.Replace = true
			case "ServerSideApply=true", "PruneLast=true", "Delete=false", "Delete=confirm":
			default:
				r.ignore(key, option)
			}
		}
	}
}

// flux reads Flux's kustomize-controller annotations.
func (r *reader) flux(d *Directives) {
	if value := r.value(fluxPrune); value == "disabled" {
		d.PruneOptOut = cmp.Or(d.PruneOptOut, fluxPrune+": disabled")
	} else if value != "" && value != "enabled" {
		r.ignore(fluxPrune, value)
	}
	if value := r.value(fluxForce); value == "enabled" {
		d.Replace = true
	} else if value != "" && value != "disabled" {
		r.ignore(fluxForce, value)
	}
	switch value := r.value(fluxSSA); value {
	case "", "Override":
	case "IfNotPresent":
		d.CreateOnly = true
	default:
		r.ignore(fluxSSA, value)
	}
}

// splitList splits a comma-separated annotation value, dropping blanks.
func splitList(value string) []string {
	var out []string
	for _, item := range strings.Split(value, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
