package apply

import (
	"testing"

	"weir.dev/weir/api/v1alpha1"
)

func TestChangeSetSummary(t *testing.T) {
	cm := v1alpha1.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "old"}
	tests := []struct {
		changes ChangeSet
		want    string
	}{
		{nil, "no changes"},
		{ChangeSet{{Action: Unchanged}, {Action: Unchanged}}, "2 unchanged"},
		{ChangeSet{
			{Action: Deleted}, {Action: Created}, {Action: Unchanged}, {Action: Created},
			{Action: Configured}, {Action: Created}, {Action: Unchanged}, {Action: Skipped},
		}, "3 created, 1 configured, 2 unchanged, 1 deleted, 1 skipped"},
	}
	for _, tt := range tests {
		if got := tt.changes.Summary(); got != tt.want || tt.changes.String() != tt.want {
			t.Errorf("Summary() = %q, want %q", got, tt.want)
		}
	}
	skipped := Change{Object: cm, Action: Skipped, Reason: "prune disabled by annotation weir.dev/prune"}
	if got, want := skipped.String(), "ConfigMap shop/old skipped: prune disabled by annotation weir.dev/prune"; got != want {
		t.Errorf("Change.String() = %q, want %q", got, want)
	}
}

func TestChangeSetSkipsNamesWhatPruneLeftAndWhy(t *testing.T) {
	ref := func(name string) v1alpha1.ObjectRef {
		return v1alpha1.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: name}
	}
	cs := ChangeSet{
		{Object: ref("new"), Action: Created},
		{Object: ref("shared"), Action: Skipped, Reason: "owned by Application team-b/shop"},
		{Object: ref("kept"), Action: Skipped, Reason: "prune disabled by annotation weir.dev/prune"},
		{Object: ref("gone"), Action: Skipped, Reason: "already gone"},
	}
	tests := []struct {
		limit int
		want  string
	}{
		{3, "ConfigMap shop/shared skipped: owned by Application team-b/shop; ConfigMap shop/kept skipped: prune disabled by annotation weir.dev/prune; ConfigMap shop/gone skipped: already gone"},
		{1, "ConfigMap shop/shared skipped: owned by Application team-b/shop; and 2 more"},
	}
	for _, tt := range tests {
		if got := cs.Skips(tt.limit); got != tt.want {
			t.Errorf("Skips(%d) = %q, want %q", tt.limit, got, tt.want)
		}
	}
	if got := cs[:1].Skips(3); got != "" {
		t.Errorf("Skips of a set with no skip = %q", got)
	}
}
