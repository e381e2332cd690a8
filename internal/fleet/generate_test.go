package fleet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/identity"
	"weir.dev/weir/internal/source"
)

// checkout writes files into a directory, as a checkout of a commit.
func checkout(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func origins(elems []Element) []string {
	out := make([]string, len(elems))
	for i, e := range elems {
		out[i] = e.Origin
	}
	return out
}

func TestGitDirectories(t *testing.T) {
	dir := checkout(t, map[string]string{
		"apps/web/a.yaml": "", "apps/api/a.yaml": "", "apps/old/a.yaml": "", "apps/web/deep/a.yaml": "",
		"apps/README.md": "", "infra/db/a.yaml": "",
	})
	if err := os.Symlink(filepath.Join(dir, "infra"), filepath.Join(dir, "apps", "link")); err != nil {
		t.Fatal(err)
	}
	elems, err := gitElements(dir, &weirv1.GitGenerator{Directories: []string{"apps/*", "!apps/old"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := origins(elems), []string{"directory apps/api", "directory apps/web"}; !slices.Equal(got, want) {
		t.Errorf("elements %v, want %v", got, want)
	}
	if want := map[string]string{PathParam: "apps/web", PathBasenameParam: "web"}; !maps.Equal(elems[1].Params, want) {
		t.Errorf("params %v, want %v", elems[1].Params, want)
	}
	if _, err := gitElements(dir, &weirv1.GitGenerator{Directories: []string{"apps/["}}); err == nil || !strings.Contains(err.Error(), `pattern "apps/["`) {
		t.Errorf("a malformed pattern: %v", err)
	}
}

func TestGitFiles(t *testing.T) {
	dir := checkout(t, map[string]string{
		"clusters/eu.yaml":   "cluster: eu-1\nwave: canary\n",
		"clusters/us.json":   `[{"cluster": "us-1"}, {"cluster": "us-2"}]`,
		"clusters/notes.txt": "not matched",
	})
	elems, err := gitElements(dir, &weirv1.GitGenerator{Files: []string{"clusters/*.yaml", "clusters/*.json"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"file clusters/eu.yaml", "file clusters/us.json, item 0", "file clusters/us.json, item 1"}
	if got := origins(elems); !slices.Equal(got, want) {
		t.Fatalf("elements %v, want %v", got, want)
	}
	wantParams := map[string]string{"cluster": "eu-1", "wave": "canary", PathParam: "clusters", PathBasenameParam: "clusters", PathFilenameParam: "eu.yaml"}
	if !maps.Equal(elems[0].Params, wantParams) {
		t.Errorf("params %v, want %v", elems[0].Params, wantParams)
	}
}

func TestGitFileErrorsNameTheFile(t *testing.T) {
	many := map[string]string{}
	for i := range MaxGitFiles + 1 {
		many[fmt.Sprintf("c/%03d.yaml", i)] = "a: b\n"
	}
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"not yaml", map[string]string{"c/bad.yaml": "a: [b\n"}, "file c/bad.yaml: "},
		{"a scalar", map[string]string{"c/bad.yaml": "text\n"}, "file c/bad.yaml: not an object or a list of objects"},
		{"too large", map[string]string{"c/big.yaml": "a: " + strings.Repeat("x", MaxGitFileBytes) + "\n"}, fmt.Sprintf("file c/big.yaml is larger than %d bytes", MaxGitFileBytes)},
		{"a generator's parameter", map[string]string{"c/p.yaml": "path: mine\n"}, `file c/p.yaml has a field "path", a parameter the generator sets`},
		{"too many files", many, fmt.Sprintf("the patterns match %d files, more than %d", MaxGitFiles+1, MaxGitFiles)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := gitElements(checkout(t, tt.files), &weirv1.GitGenerator{Files: []string{"c/*"}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestGitFilesIgnoreSymlinks(t *testing.T) {
	outside := checkout(t, map[string]string{"secret.yaml": "token: s3cr3t\n"})
	dir := checkout(t, map[string]string{"c/a.yaml": "a: b\n"})
	if err := os.Symlink(filepath.Join(outside, "secret.yaml"), filepath.Join(dir, "c", "leak.yaml")); err != nil {
		t.Fatal(err)
	}
	elems, err := gitElements(dir, &weirv1.GitGenerator{Files: []string{"c/*"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := origins(elems); !slices.Equal(got, []string{"file c/a.yaml"}) {
		t.Errorf("elements %v: a symbolic link was read", got)
	}
}

func TestProduct(t *testing.T) {
	a := []Element{elem("cluster Secret eu", "cluster.name", "eu"), elem("cluster Secret us", "cluster.name", "us")}
	b := []Element{elem("directory apps/web", "path", "apps/web"), elem("directory apps/api", "path", "apps/api")}
	got, err := product(a, b)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cluster Secret eu × directory apps/web", "cluster Secret eu × directory apps/api",
		"cluster Secret us × directory apps/web", "cluster Secret us × directory apps/api"}
	if !slices.Equal(origins(got), want) {
		t.Errorf("elements %v, want %v", origins(got), want)
	}
	if want := map[string]string{"cluster.name": "us", "path": "apps/api"}; !maps.Equal(got[3].Params, want) {
		t.Errorf("params %v, want %v", got[3].Params, want)
	}
	_, err = product([]Element{elem("list element 0", "env", "prod")}, []Element{elem("list element 1", "env", "dev")})
	if want := `list element 0 and list element 1 give parameter "env" different values`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
	big := make([]Element, 30)
	if _, err := product(big, big); err == nil || !strings.Contains(err.Error(), "more than 500") {
		t.Errorf("a product of 900: %v", err)
	}
}

func TestClusterElements(t *testing.T) {
	got, err := clusterElements([]metav1.ObjectMeta{
		{Name: "us-1", Labels: map[string]string{"wave": "2"}},
		{Name: "eu-1", Labels: map[string]string{"wave": "1", "weir.dev/cluster": "true"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(origins(got), []string{"cluster Secret eu-1", "cluster Secret us-1"}) {
		t.Errorf("elements %v", origins(got))
	}
	want := map[string]string{"cluster.name": "eu-1", "cluster.labels.wave": "1", "cluster.labels.weir.dev/cluster": "true"}
	if !maps.Equal(got[0].Params, want) {
		t.Errorf("params %v, want %v", got[0].Params, want)
	}
}

// dirFetcher checks out every ref as the directory dir.
type dirFetcher struct{ dir string }

func (f dirFetcher) FetchSince(context.Context, string, weirv1.GitRef, source.Credentials, time.Time) (source.Artifact, error) {
	return source.Artifact{Dir: f.dir, Revision: "main@sha1:abc"}, nil
}

type noCredentials struct{}

func (noCredentials) GitCredentials(context.Context, string, *weirv1.LocalObjectReference, string) (source.Credentials, error) {
	return source.Credentials{}, nil
}

func TestElementsNameTheGenerator(t *testing.T) {
	dir := checkout(t, map[string]string{"apps/web/a.yaml": "", "envs/bad.yaml": "- 1\n"})
	g := &Generator{Fetcher: dirFetcher{dir}, Credentials: noCredentials{}}
	list := &weirv1.ListGenerator{Elements: []map[string]string{{"env": "prod"}, {"env": "dev"}}}
	dirs := &weirv1.GitGenerator{URL: "https://git.example.com/x", Directories: []string{"apps/*"}}
	set := &weirv1.ApplicationSet{Spec: weirv1.ApplicationSetSpec{Generators: []weirv1.Generator{
		{List: &weirv1.ListGenerator{Elements: []map[string]string{{"env": "test"}}}},
		{Matrix: &weirv1.MatrixGenerator{Generators: []weirv1.MatrixElementGenerator{{List: list}, {Git: dirs}}}},
	}}}
	elems, err := g.Elements(t.Context(), set, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"list element 0 of spec.generators[0]",
		"list element 0 of spec.generators[1].matrix.generators[0] × directory apps/web",
		"list element 1 of spec.generators[1].matrix.generators[0] × directory apps/web"}
	if !slices.Equal(origins(elems), want) {
		t.Errorf("elements %v, want %v", origins(elems), want)
	}
	set.Spec.Generators[1].Matrix.Generators[1].Git = &weirv1.GitGenerator{URL: "https://git.example.com/x", Files: []string{"envs/*"}}
	_, err = g.Elements(t.Context(), set, time.Now())
	if want := "spec.generators[1].matrix.generators[1]: revision main@sha1:abc: file envs/bad.yaml: not an object or a list of objects"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}

func TestGeneratorsRefuseWhatTheyCannotBound(t *testing.T) {
	many := map[string]string{}
	for i := range MaxParameters + 1 {
		many[fmt.Sprint(i)] = "v"
	}
	tests := []struct {
		name string
		gen  weirv1.Generator
		want string
	}{
		{"an empty cluster selector", weirv1.Generator{Clusters: &weirv1.ClustersGenerator{}},
			"spec.generators[0]: clusters.selector is empty: it would select every Secret"},
		{"a list element of too many parameters", weirv1.Generator{List: &weirv1.ListGenerator{Elements: []map[string]string{{}, many}}},
			fmt.Sprintf("spec.generators[0]: list element 1 of spec.generators[0] has more than %d parameters", MaxParameters)},
		{"a matrix of one", weirv1.Generator{Matrix: &weirv1.MatrixGenerator{Generators: []weirv1.MatrixElementGenerator{{List: &weirv1.ListGenerator{}}}}},
			"spec.generators[0].matrix: has 1 generators, not 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := &weirv1.ApplicationSet{Spec: weirv1.ApplicationSetSpec{Generators: []weirv1.Generator{tt.gen}}}
			_, err := (&Generator{}).Elements(t.Context(), set, time.Now())
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %s", err, tt.want)
			}
		})
	}
}

// refusingReaders record the identity asked for and give no client.
type refusingReaders struct{ asked *identity.Identity }

func (r refusingReaders) Get(id identity.Identity) (client.Reader, error) {
	*r.asked = id
	return nil, errors.New("no clients in this test")
}

func TestClustersGeneratorListsAsTheSetsServiceAccount(t *testing.T) {
	clusters := &weirv1.ClustersGenerator{Selector: metav1.LabelSelector{MatchLabels: map[string]string{"weir.dev/cluster": "true"}}}
	set := &weirv1.ApplicationSet{ObjectMeta: metav1.ObjectMeta{Namespace: "fleet", Name: "shop"},
		Spec: weirv1.ApplicationSetSpec{Generators: []weirv1.Generator{{Clusters: clusters}}}}
	var asked identity.Identity
	g := &Generator{Secrets: refusingReaders{&asked}}

	_, err := g.Elements(t.Context(), set, time.Now())
	if !errors.Is(err, ErrNoServiceAccount) || !strings.HasPrefix(err.Error(), "spec.generators[0]: ") || !strings.Contains(err.Error(), "spec.serviceAccountName") {
		t.Errorf("without a ServiceAccount: %v, want spec.generators[0] and spec.serviceAccountName named", err)
	}
	if asked != (identity.Identity{}) {
		t.Errorf("without a ServiceAccount, clients of %v were asked for", asked)
	}

	for _, tt := range []struct {
		named, fallback, want string
	}{{"deployer", "", "deployer"}, {"", "weir-tenant", "weir-tenant"}, {"deployer", "weir-tenant", "deployer"}} {
		set.Spec.ServiceAccountName, g.Tenancy.DefaultServiceAccount = tt.named, tt.fallback
		if _, err := g.Elements(t.Context(), set, time.Now()); err == nil {
			t.Errorf("%+v: no error from refusing readers", tt)
		}
		if asked.ServiceAccount != tt.want || asked.Application.Namespace != "fleet" {
			t.Errorf("%+v: clients of %+v asked for, want ServiceAccount fleet/%s", tt, asked, tt.want)
		}
	}
}
