package gitwrite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weir.dev/weir/internal/source"
	"weir.dev/weir/internal/testenv"
)

// Paths of the manifests in the test repositories.
const (
	deploymentPath = "deploy/web.yaml"
	configMapPath  = "deploy/web-config.yaml"
	servicePath    = "deploy/web-service.yaml"
)

// Changes the commits of a test repository make.
var (
	newImage      = []string{"web:1.4.0", "web:1.5.0"}
	newFeature    = []string{`FEATURE_NEW_CART: "false"`, `FEATURE_NEW_CART: "true"`}
	otherImage    = []string{"web:1.5.0", "web:1.5.1"}
	moreReplicas  = []string{"replicas: 3", "replicas: 5"}
	revertMessage = "Revert web 1.5.0: success rate 91.2% < 99% at step 2\n\nweir aborted the rollout of web.\n"
)

// origin is a repository that a release went wrong in: good is commit A;
// B sets a new image in the Deployment; bad is commit C, which turns a
// feature on in the ConfigMap.
type origin struct {
	*testenv.GitRepo
	good, b, bad string
}

// newOrigin makes the repository. Pushes to it over file:// update its work
// tree, so that later commits build on them, and must pass git fsck. Files
// beside the deploy directory, whose names sort before and after
// "deploy/", check that trees are written in Git's order.
func newOrigin(t testing.TB) *origin {
	t.Helper()
	o := &origin{GitRepo: testenv.NewGitRepo(t)}
	o.Git("config", "receive.denyCurrentBranch", "updateInstead")
	o.Git("config", "receive.fsckObjects", "true")
	o.Write("deploy-notes.txt", "how to deploy\n")
	o.Write("deploy0.txt", "first deploy\n")
	o.Write(deploymentPath, fixture(t, "deployment.yaml"))
	o.Write(configMapPath, fixture(t, "configmap.yaml"))
	o.good = o.Commit("web 1.4.0")
	o.edit(t, deploymentPath, newImage...)
	o.b = o.Commit("web 1.5.0")
	o.edit(t, configMapPath, newFeature...)
	o.bad = o.Commit("new cart on")
	return o
}

// edit replaces old with new in a file of the work tree, for each pair.
func (o *origin) edit(t testing.TB, path string, oldNew ...string) {
	t.Helper()
	content := o.show(t, "HEAD:"+path)
	for i := 0; i < len(oldNew); i += 2 {
		if !strings.Contains(content, oldNew[i]) {
			t.Fatalf("%s has no %q", path, oldNew[i])
		}
		content = strings.ReplaceAll(content, oldNew[i], oldNew[i+1])
	}
	o.Write(path, content)
}

// show is the content of an object, such as "<commit>:<path>".
func (o *origin) show(t testing.TB, object string) string {
	t.Helper()
	return o.Git("show", object) + "\n"
}

// request asks to revert (good, bad] on main of url.
func (o *origin) request(url string) RevertRequest {
	return RevertRequest{URL: url, Branch: "main", Good: o.good, Bad: o.bad, Message: revertMessage}
}

// fixture is the content of a file in testdata.
func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// revert runs a Revert with a work directory that the test checks is left
// empty.
func revert(t testing.TB, r *Reverter, req RevertRequest) (string, error) {
	t.Helper()
	return revertContext(t, context.Background(), r, req)
}

// revertContext is revert with a context.
func revertContext(t testing.TB, ctx context.Context, r *Reverter, req RevertRequest) (string, error) {
	t.Helper()
	h, err := r.Revert(ctx, req)
	entries, readErr := os.ReadDir(r.workDir)
	if readErr != nil && !errors.Is(readErr, os.ErrNotExist) {
		t.Fatal(readErr)
	}
	if len(entries) > 0 {
		t.Errorf("work directory holds %d entries after Revert, want none", len(entries))
	}
	return h, err
}

// checkRevertCommit checks that the branch head of o is commit h, by the
// default author with the request's message, on top of parent, and that
// each file in want has that content (or, for "", is absent).
func checkRevertCommit(t testing.TB, o *origin, h, parent string, want map[string]string) {
	t.Helper()
	if head := o.Git("rev-parse", "main"); head != h {
		t.Fatalf("main is at %s, want the revert commit %s", head, h)
	}
	if got := o.Git("rev-parse", h+"^@"); got != parent {
		t.Errorf("revert commit's parents = %s, want %s", got, parent)
	}
	if got := o.Git("show", "-s", "--format=%an <%ae>|%cn <%ce>", h); got != "weir <weir@weir.dev>|weir <weir@weir.dev>" {
		t.Errorf("author|committer = %q, want weir <weir@weir.dev> for both", got)
	}
	if got := o.Git("show", "-s", "--format=%B", h) + "\n"; got != revertMessage {
		t.Errorf("message = %q, want %q", got, revertMessage)
	}
	for path, content := range want {
		files := o.Git("ls-tree", "--name-only", "-r", h)
		if content == "" {
			if strings.Contains(files, path) {
				t.Errorf("%s is in the revert commit, want it absent", path)
			}
			continue
		}
		if got := o.show(t, h+":"+path); got != content {
			t.Errorf("%s in the revert commit =\n%s\nwant\n%s", path, got, content)
		}
	}
}

// checkHead fails the test unless main of o is at want.
func checkHead(t testing.TB, o *origin, want string) {
	t.Helper()
	if head := o.Git("rev-parse", "main"); head != want {
		t.Errorf("main is at %s, want %s (nothing pushed)", head, want)
	}
}

// fileSources let a Reverter reach the test repositories, which are on the
// local disk.
var fileSources = source.RemoteOptions{AllowFileSources: true}
