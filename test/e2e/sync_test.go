package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/test/fixture"
)

func TestCommitChangeDeleteAndRevertReachTheCluster(t *testing.T) {
	s := given(t, map[string]string{
		"app/web.yaml":    fixture.Deployment("web", 2, "nginx:1.27") + "---\n" + fixture.Service("web"),
		"app/config.yaml": fixture.ConfigMap("settings", "color", "blue"),
		"README.md":       "not an object",
		"other/skip.yaml": fixture.ConfigMap("elsewhere", "k", "v"),
	})
	first := s.repo.Head()
	s.whenApplication(func(spec *weirv1.ApplicationSpec) { spec.Source.Path = "app" })
	app := s.thenApplied(first)

	var web appsv1.Deployment
	s.get(&web, "web")
	s.get(&corev1.Service{}, "web")
	if len(app.Status.Inventory) != 3 {
		t.Errorf("inventory = %v, want the 3 objects under app/", app.Status.Inventory)
	}
	if err := s.c.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: "elsewhere"}, &corev1.ConfigMap{}); err == nil {
		t.Error("a ConfigMap outside spec.source.path was applied")
	}
	rec := app.Status.History[0]
	if rec.Author != "Ada Author <ada@example.com>" || rec.Message != "initial" || rec.Result != weirv1.SyncSucceeded {
		t.Errorf("history[0] = %+v, want Ada's initial commit, succeeded", rec)
	}

	// A field changed in Git is changed in the cluster.
	changed := s.commit("scale web to 3", map[string]string{"app/web.yaml": fixture.Deployment("web", 3, "nginx:1.27") + "---\n" + fixture.Service("web")})
	s.thenApplied(changed)
	s.get(&web, "web")
	if *web.Spec.Replicas != 3 {
		t.Errorf("replicas = %d after the commit, want 3", *web.Spec.Replicas)
	}

	// A file deleted in Git is pruned.
	deleted := s.commit("drop the settings", map[string]string{"app/config.yaml": ""})
	s.thenApplied(deleted)
	s.absent(&corev1.ConfigMap{}, "settings")

	// git revert brings it back, as it was.
	s.repo.Git("revert", "--no-edit", deleted)
	reverted := s.repo.Head()
	app = s.thenApplied(reverted)
	var settings corev1.ConfigMap
	s.get(&settings, "settings")
	if settings.Data["color"] != "blue" {
		t.Errorf("settings after revert = %v, want color=blue", settings.Data)
	}
	if got := len(app.Status.History); got != 4 {
		t.Errorf("history has %d records, want 4 syncs: %s", got, historyLines(app.Status.History))
	}
	if !strings.HasPrefix(app.Status.History[0].Message, "Revert") {
		t.Errorf("newest history record = %q, want the revert", app.Status.History[0].Message)
	}
}

func TestRefsSelectTheCommit(t *testing.T) {
	tests := []struct {
		name string
		ref  func(r *refRepo) weirv1.GitRef
		want string // value of the ConfigMap
	}{
		{"branch", func(r *refRepo) weirv1.GitRef { return weirv1.GitRef{Branch: "release"} }, "release"},
		{"tag", func(r *refRepo) weirv1.GitRef { return weirv1.GitRef{Tag: "v1.0.0"} }, "v1.0.0"},
		{"semver", func(r *refRepo) weirv1.GitRef { return weirv1.GitRef{SemVer: ">=1.0.0 <2.0.0"} }, "v1.1.0"},
		{"commit", func(r *refRepo) weirv1.GitRef { return weirv1.GitRef{Commit: r.commits["v1.0.0"]} }, "v1.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRefRepo(t)
			r.whenApplication(func(spec *weirv1.ApplicationSpec) { spec.Source.Ref = tt.ref(r) })
			r.thenApplied(r.commits[tt.want])
			var cm corev1.ConfigMap
			r.get(&cm, "version")
			if cm.Data["version"] != tt.want {
				t.Errorf("version = %q, want %q", cm.Data["version"], tt.want)
			}
		})
	}
}

// refRepo has tags v1.0.0, v1.1.0 and v2.0.0 on main, and a branch release.
type refRepo struct {
	*story
	commits map[string]string // version -> commit
}

func newRefRepo(t *testing.T) *refRepo {
	r := &refRepo{story: given(t, map[string]string{"version.yaml": fixture.ConfigMap("version", "version", "v0")}), commits: map[string]string{}}
	for _, v := range []string{"v1.0.0", "v1.1.0", "v2.0.0"} {
		r.commits[v] = r.commit(v, map[string]string{"version.yaml": fixture.ConfigMap("version", "version", v)})
		r.repo.Git("tag", "-a", v, "-m", "release "+v)
	}
	r.repo.Git("checkout", "-q", "-b", "release", r.commits["v1.0.0"])
	r.commits["release"] = r.commit("release branch", map[string]string{"version.yaml": fixture.ConfigMap("version", "version", "release")})
	r.repo.Git("checkout", "-q", "main")
	return r
}

func TestAnInvalidObjectAppliesNothing(t *testing.T) {
	s := given(t, map[string]string{
		"a.yaml": fixture.ConfigMap("first", "k", "v"),
		"b.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: broken\nspec:\n  ports:\n  - port: 70000\n",
		"c.yaml": fixture.ConfigMap("last", "k", "v"),
	})
	s.whenApplication(nil)
	app := s.thenCondition(weirv1.StalledCondition, metav1.ConditionTrue, "ValidationFailed")
	msg := conditionMessage(app, weirv1.ReadyCondition)
	if !strings.Contains(msg, "broken") || !strings.Contains(msg, "70000") {
		t.Errorf("Ready message %q does not name the Service broken and its bad port", msg)
	}
	for _, name := range []string{"first", "last"} {
		if err := s.c.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: name}, &corev1.ConfigMap{}); err == nil {
			t.Errorf("ConfigMap %s was applied although the set is invalid", name)
		}
	}
}

func TestAnEmptyRenderDoesNotPruneEverything(t *testing.T) {
	s := given(t, map[string]string{"deploy/a.yaml": fixture.ConfigMap("keep-me", "k", "v")})
	s.whenApplication(func(spec *weirv1.ApplicationSpec) { spec.Source.Path = "deploy" })
	s.thenApplied(s.repo.Head())

	s.commit("oops, everything gone", map[string]string{"deploy/a.yaml": "", "deploy/.keep": "placeholder"})
	app := s.thenCondition(weirv1.StalledCondition, metav1.ConditionTrue, "RenderFailed")
	if msg := conditionMessage(app, weirv1.ReadyCondition); !strings.Contains(msg, "render deploy: no objects to apply") {
		t.Errorf("Ready message %q does not say that the render of deploy is empty", msg)
	}
	s.get(&corev1.ConfigMap{}, "keep-me")
	if len(app.Status.Inventory) != 1 {
		t.Errorf("inventory = %v after a refused prune, want it kept", app.Status.Inventory)
	}

	// Allowed, the empty set is applied: everything is pruned.
	edit := app.DeepCopy()
	edit.Spec.Sync.AllowEmpty = true
	if err := s.c.Patch(context.Background(), edit, client.MergeFrom(app)); err != nil {
		t.Fatal(err)
	}
	s.thenApplied(s.repo.Head())
	s.absent(&corev1.ConfigMap{}, "keep-me")
}

// A first sync of a path that holds nothing weir reads is not Ready: its
// message names the files skipped and why.
func TestAFirstSyncOfAPathWithNoManifestsFails(t *testing.T) {
	for _, tt := range []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"Jsonnet", map[string]string{"deploy/main.jsonnet": "[]\n", "deploy/lib.libsonnet": "{}\n"},
			[]string{"deploy/main.jsonnet skipped: Jsonnet is not supported", "deploy/lib.libsonnet skipped: Jsonnet is not supported"}},
		{"a mistyped path with a README", map[string]string{"deploy/README.md": "# Deploy\n", "web/app.yaml": fixture.ConfigMap("web", "k", "v")},
			[]string{"deploy/README.md skipped: not a manifest"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := given(t, tt.files)
			s.whenApplication(func(spec *weirv1.ApplicationSpec) { spec.Source.Path = "deploy" })
			app := s.thenCondition(weirv1.ReadyCondition, metav1.ConditionFalse, "RenderFailed")
			msg := conditionMessage(app, weirv1.ReadyCondition)
			for _, want := range tt.want {
				if !strings.Contains(msg, want) {
					t.Errorf("Ready message %q does not say %q", msg, want)
				}
			}
		})
	}
}

func TestASymlinkOutOfTheRepositoryIsRefused(t *testing.T) {
	s := given(t, map[string]string{"app/ok.yaml": fixture.ConfigMap("ok", "k", "v")})
	s.repo.Git("-c", "core.symlinks=true", "update-index", "--add", "--cacheinfo", "120000,"+hashObject(s, "/etc/passwd")+",app/passwd.yaml")
	s.repo.Git("commit", "-q", "-m", "sneak a link out")
	s.whenApplication(func(spec *weirv1.ApplicationSpec) { spec.Source.Path = "app" })
	app := s.thenCondition(weirv1.StalledCondition, metav1.ConditionTrue, "RenderFailed")
	if msg := conditionMessage(app, weirv1.ReadyCondition); !strings.Contains(msg, "passwd.yaml") {
		t.Errorf("Ready message %q does not name the link", msg)
	}
	if err := s.c.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: "ok"}, &corev1.ConfigMap{}); err == nil {
		t.Error("objects were applied from a render that was refused")
	}
}

// hashObject stores content as a blob and returns its id.
func hashObject(s *story, content string) string {
	s.repo.Write(".blob", content)
	defer s.repo.Remove(".blob")
	return s.repo.Git("hash-object", "-w", ".blob")
}

func conditionMessage(app *weirv1.Application, typ string) string {
	for _, c := range app.Status.Conditions {
		if c.Type == typ {
			return c.Message
		}
	}
	return ""
}

// historyLines formats a history for a failure message, newest first.
func historyLines(history []weirv1.SyncRecord) string {
	var b strings.Builder
	for _, r := range history {
		fmt.Fprintf(&b, "\n  %s %s %s %q: %s", r.Revision, r.Trigger, r.Result, r.Message, r.Summary)
	}
	return b.String()
}
