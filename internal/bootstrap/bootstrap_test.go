package bootstrap

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/source"
	"weir.dev/weir/internal/testenv"
)

var testOpts = Options{
	URL: "https://git.example.com/fleet.git", Branch: "prod", Path: "clusters/prod/weir",
	SecretName: "weir-git", Interval: 30 * time.Second,
}

// TestFilesHoldWeirAndItsApplication: the committed files hold weir's
// install, the Application that syncs them from the options' branch and
// path, and a role that lets weir apply every kind of them.
func TestFilesHoldWeirAndItsApplication(t *testing.T) {
	tr, objs, err := files(testOpts)
	if err != nil {
		t.Fatal(err)
	}
	var app weirv1.Application
	if err := yaml.Unmarshal(lastDoc(tr.files[syncFile]), &app); err != nil {
		t.Fatal(err)
	}
	src := app.Spec.Source
	if app.Namespace != Namespace || app.Name != ApplicationName || src.URL != testOpts.URL || src.Ref.Branch != "prod" ||
		src.Path != testOpts.Path || src.SecretRef.Name != "weir-git" || app.Spec.Sync.Interval.Duration != 30*time.Second {
		t.Errorf("the Application is %s/%s with %+v, sync %+v", app.Namespace, app.Name, src, app.Spec.Sync)
	}
	kinds := map[string]bool{}
	for _, o := range objs {
		kinds[o.GetKind()] = true

	}
	for _, k := range []string{"CustomResourceDefinition", "Namespace", "Deployment", "Service", "ClusterRole", "Application"} {
		if !kinds[k] {
			t.Errorf("no %s among the objects", k)
		}
	}
	if !slices.ContainsFunc(objs, aggregates) {
		t.Error("weir-apply is not applied")
	}
	for _, doc := range strings.Split(string(tr.files[installFile]), "\n---\n") {
		o := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &o.Object); err != nil {
			t.Fatal(err)
		}
		if aggregates(o) {
			t.Errorf("%s, a role that aggregates others, is in Git, where weir cannot apply it", o.GetName())
		}
	}
	checkSelfApply(t, objs)
}

// checkSelfApply finds every kind of objs in the rules of weir-self-apply.
func checkSelfApply(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	role := selfApply(objs)
	for _, o := range objs {
		gvr, _ := meta.UnsafeGuessKindToResource(o.GroupVersionKind())
		found := slices.ContainsFunc(role.Rules, func(r rbacv1.PolicyRule) bool {
			return slices.Contains(r.APIGroups, gvr.Group) && slices.Contains(r.Resources, gvr.Resource) && slices.Contains(r.Verbs, "delete")
		})
		if !found {
			t.Errorf("weir-self-apply does not let weir apply and prune %s", gvr)
		}
	}
}

// TestCommitToAnEmptyRepositoryThenNothing: bootstrap gives an empty
// repository its branch, and makes no second commit.
func TestCommitToAnEmptyRepositoryThenNothing(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("git", "init", "-q", "--bare", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	url := "file://" + dir
	first := commitTestTree(t, url)
	if !first.committed {
		t.Fatal("no commit to the empty repository")
	}
	if got := gitOut(t, dir, "ls-tree", "-r", "--name-only", "main"); got != "weir/kustomization.yaml\nweir/weir-sync.yaml\nweir/weir.yaml" {
		t.Errorf("main holds %q", got)
	}
	if again := commitTestTree(t, url); again.committed || again.head != first.head {
		t.Errorf("second bootstrap: %+v after %+v", again, first)
	}
}

// TestTheUsersKustomizationIsKept: kustomization.yaml, where users patch
// weir, is written once and then theirs.
func TestTheUsersKustomizationIsKept(t *testing.T) {
	repo := testenv.NewGitRepo(t)
	repo.Write("README.md", "fleet\n")
	repo.Commit("fleet")
	repo.Git("checkout", "-q", "--detach") // the branch takes pushes
	commitTestTree(t, repo.URL())
	repo.Git("checkout", "-q", "main")
	patched := repo.Git("show", "HEAD:weir/kustomization.yaml") + "\npatches:\n- path: replicas.yaml\n"
	repo.Write("weir/kustomization.yaml", patched)
	head := repo.Commit("weir: my patch")
	repo.Git("checkout", "-q", "--detach")
	if again := commitTestTree(t, repo.URL()); again.committed || again.head != head {
		t.Errorf("bootstrap after the user's commit: %+v, want no commit on %s", again, head)
	}
	if got := repo.Git("show", "main:weir/kustomization.yaml"); got != strings.TrimSpace(patched) {
		t.Errorf("kustomization.yaml is now %q", got)
	}
}

type commitResult struct {
	head      string
	committed bool
}

// commitTestTree commits bootstrap's files for testOpts to weir/ of main
// of the repository at url.
func commitTestTree(t *testing.T, url string) commitResult {
	t.Helper()
	tr, _, err := files(testOpts)
	if err != nil {
		t.Fatal(err)
	}
	remote, err := source.NewRemote(url, source.Credentials{}, t.TempDir(), source.RemoteOptions{AllowFileSources: true})
	if err != nil {
		t.Fatal(err)
	}
	head, committed, err := commitFiles(t.Context(), remote, url, "main", "weir", tr, "weir bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	return commitResult{head, committed}
}

func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// lastDoc is the last document of a YAML stream.
func lastDoc(stream []byte) []byte {
	docs := strings.Split(string(stream), "\n---\n")
	return []byte(docs[len(docs)-1])
}
