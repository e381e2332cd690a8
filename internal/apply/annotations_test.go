package apply

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestReadDirectives(t *testing.T) {
	bhc := []DeletePolicy{BeforeHookCreation}
	tests := []struct {
		name        string
		annotations map[string]string
		want        Directives
	}{
		{"none", nil, Directives{}},
		{"weir wave", map[string]string{"weir.dev/sync-wave": " -2 "}, Directives{Wave: -2}},
		{"argo wave", map[string]string{"argocd.argoproj.io/sync-wave": "3"}, Directives{Wave: 3}},
		{"weir wave wins over argo", map[string]string{"weir.dev/sync-wave": "1", "argocd.argoproj.io/sync-wave": "3"}, Directives{Wave: 1}},
		{"weir prune", map[string]string{"weir.dev/prune": "disabled"},
			Directives{PruneOptOut: "weir.dev/prune: disabled"}},
		{"weir sync-options", map[string]string{"weir.dev/sync-options": "Prune=false, Replace=true"},
			Directives{PruneOptOut: "weir.dev/sync-options: Prune=false", Replace: true}},
		{"argo Prune=false", map[string]string{"argocd.argoproj.io/sync-options": "Prune=false"},
			Directives{PruneOptOut: "argocd.argoproj.io/sync-options: Prune=false"}},
		{"argo Prune=confirm keeps", map[string]string{"argocd.argoproj.io/sync-options": "Prune=confirm"},
			Directives{PruneOptOut: "argocd.argoproj.io/sync-options: Prune=confirm"}},
		{"flux prune disabled", map[string]string{"kustomize.toolkit.fluxcd.io/prune": "disabled"},
			Directives{PruneOptOut: "kustomize.toolkit.fluxcd.io/prune: disabled"}},
		{"flux prune enabled", map[string]string{"kustomize.toolkit.fluxcd.io/prune": "enabled"}, Directives{}},
		{"helm keep", map[string]string{"helm.sh/resource-policy": "keep"},
			Directives{PruneOptOut: "helm.sh/resource-policy: keep"}},
		{"argo replace and what weir always does", map[string]string{"argocd.argoproj.io/sync-options": "Replace=true,ServerSideApply=true,PruneLast=true,Delete=false"},
			Directives{Replace: true}},
		{"flux force", map[string]string{"kustomize.toolkit.fluxcd.io/force": "enabled"}, Directives{Replace: true}},
		{"flux ssa IfNotPresent", map[string]string{"kustomize.toolkit.fluxcd.io/ssa": "IfNotPresent"}, Directives{CreateOnly: true}},
		{"flux ssa Merge", map[string]string{"kustomize.toolkit.fluxcd.io/ssa": "Merge"},
			Directives{Ignored: []string{"kustomize.toolkit.fluxcd.io/ssa: Merge"}}},
		{"unsupported argo sync options", map[string]string{"argocd.argoproj.io/sync-options": "ServerSideApply=false,Prune=false,Validate=false"},
			Directives{PruneOptOut: "argocd.argoproj.io/sync-options: Prune=false",
				Ignored: []string{"argocd.argoproj.io/sync-options: ServerSideApply=false", "argocd.argoproj.io/sync-options: Validate=false"}}},
		{"unknown foreign annotations", map[string]string{"argocd.argoproj.io/compare-options": "IgnoreExtraneous", "kustomize.toolkit.fluxcd.io/reconcile": "disabled", "example.com/other": "x"},
			Directives{Ignored: []string{"argocd.argoproj.io/compare-options: IgnoreExtraneous", "kustomize.toolkit.fluxcd.io/reconcile: disabled"}}},
		{"weir hook", map[string]string{"weir.dev/hook": "PreSync", "weir.dev/sync-wave": "2"},
			Directives{Hook: PreSync, Wave: 2, DeletePolicies: bhc}},
		{"argo hook with policies", map[string]string{"argocd.argoproj.io/hook": "PostSync", "argocd.argoproj.io/hook-delete-policy": "HookSucceeded,HookFailed"},
			Directives{Hook: PostSync, DeletePolicies: []DeletePolicy{HookSucceeded, HookFailed}}},
		{"argo SyncFail", map[string]string{"argocd.argoproj.io/hook": "SyncFail"}, Directives{Hook: SyncFail, DeletePolicies: bhc}},
		{"argo Skip", map[string]string{"argocd.argoproj.io/hook": "Skip"}, Directives{Hook: Skip, DeletePolicies: bhc}},
		{"argo PostDelete is not run", map[string]string{"argocd.argoproj.io/hook": "PostDelete"},
			Directives{Hook: Skip, DeletePolicies: bhc, Ignored: []string{"argocd.argoproj.io/hook: PostDelete (not applied)"}}},
		{"argo hook in two phases runs in the first", map[string]string{"argocd.argoproj.io/hook": "PreSync,PostSync"},
			Directives{Hook: PreSync, DeletePolicies: bhc, Ignored: []string{"argocd.argoproj.io/hook: PreSync,PostSync (run as PreSync only)"}}},
		{"argo unknown delete policy", map[string]string{"argocd.argoproj.io/hook": "Sync", "argocd.argoproj.io/hook-delete-policy": "Never"},
			Directives{Hook: Sync, Ignored: []string{"argocd.argoproj.io/hook-delete-policy: Never"}}},
		{"helm pre-install hook", map[string]string{"helm.sh/hook": "pre-install,pre-upgrade", "helm.sh/hook-weight": "-5", "helm.sh/hook-delete-policy": "hook-succeeded"},
			Directives{Hook: PreSync, Wave: -5, DeletePolicies: []DeletePolicy{HookSucceeded}}},
		{"helm post-upgrade hook", map[string]string{"helm.sh/hook": "post-upgrade"}, Directives{Hook: PostSync, DeletePolicies: bhc}},
		{"helm test hook", map[string]string{"helm.sh/hook": "test"}, Directives{Hook: Skip, DeletePolicies: bhc}},
		{"helm delete hook", map[string]string{"helm.sh/hook": "pre-delete"}, Directives{Hook: Skip, DeletePolicies: bhc}},
		{"helm weight without a hook", map[string]string{"helm.sh/hook-weight": "5"}, Directives{}},
		{"argo hook wins over helm", map[string]string{"argocd.argoproj.io/hook": "Sync", "helm.sh/hook": "pre-install", "helm.sh/hook-weight": "5"},
			Directives{Hook: Sync, DeletePolicies: bhc}},
		{"unknown weir sync option", map[string]string{"weir.dev/sync-options": "Validate=false"},
			Directives{Ignored: []string{"weir.dev/sync-options: Validate=false"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadDirectives(annotated(tt.annotations))
			if err != nil {
				t.Fatal(err)
			}
			if !equalDirectives(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestReadDirectivesRejectsInvalidWeirValuesButStillReadsPruneOptOuts(t *testing.T) {
	tests := []struct {
		annotations map[string]string
		err         string
	}{
		{map[string]string{"weir.dev/sync-wave": "first", "weir.dev/prune": "disabled"}, `annotation weir.dev/sync-wave: "first" is not an integer`},
		{map[string]string{"argocd.argoproj.io/sync-wave": "1.5", "argocd.argoproj.io/sync-options": "Prune=false"}, `annotation argocd.argoproj.io/sync-wave: "1.5" is not an integer`},
		{map[string]string{"weir.dev/hook": "BeforeSync", "kustomize.toolkit.fluxcd.io/prune": "disabled"}, `annotation weir.dev/hook: "BeforeSync" is not one of`},
	}
	for _, tt := range tests {
		d, err := ReadDirectives(annotated(tt.annotations))
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%v: error %v, want %q", tt.annotations, err, tt.err)
		}
		if d.PruneOptOut == "" {
			t.Errorf("%v: the prune opt-out was not read", tt.annotations)
		}
	}
}

func TestDeletes(t *testing.T) {
	hook := Directives{Hook: PreSync, DeletePolicies: []DeletePolicy{HookSucceeded}}
	if !hook.Deletes(HookSucceeded) || hook.Deletes(HookFailed) {
		t.Errorf("%+v: Deletes(HookSucceeded)=%v Deletes(HookFailed)=%v", hook, hook.Deletes(HookSucceeded), hook.Deletes(HookFailed))
	}
	notHook := Directives{DeletePolicies: []DeletePolicy{HookSucceeded}}
	if notHook.Deletes(HookSucceeded) {
		t.Error("an object that is not a hook is deleted by a hook policy")
	}
}

func annotated(annotations map[string]string) *unstructured.Unstructured {
	obj := &unstructured.Unstructured{}
	obj.SetAPIVersion("v1")
	obj.SetKind("ConfigMap")
	obj.SetNamespace("shop")
	obj.SetName("a")
	obj.SetAnnotations(annotations)
	return obj
}

func equalDirectives(a, b Directives) bool {
	return a.Wave == b.Wave && a.Hook == b.Hook && a.PruneOptOut == b.PruneOptOut && a.Replace == b.Replace &&
		a.CreateOnly == b.CreateOnly && slices.Equal(a.DeletePolicies, b.DeletePolicies) && slices.Equal(a.Ignored, b.Ignored)
}
