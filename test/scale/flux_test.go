package scale

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/internal/testenv"
)

// flux is Flux's source-controller and kustomize-controller as processes,
// measured in weir's place: one GitRepository per repository in a
// namespace of its own, and an app is a Kustomization named app.
type flux struct {
	c       client.Client
	git     *testenv.GitHTTPServer
	procs   []*process
	sources string            // the GitRepositories' namespace
	repos   map[string]string // a GitRepository's name by its repository's directory
}

// startFlux installs Flux's CRDs and starts its source-controller and
// kustomize-controller as the cluster's administrator. Outside a cluster
// source-controller serves its artifacts on a loopback port of its own,
// advertised as such to kustomize-controller.
func startFlux(b *bench) *flux {
	f := &flux{c: b.c, git: b.git, sources: testenv.Namespace(b.t), repos: map[string]string{}}
	env := []string{"KUBECONFIG=" + testenv.Cluster(b.t).Kubeconfig, "RUNTIME_NAMESPACE=" + f.sources}
	for _, fc := range fluxControllers {
		bin, src := buildFlux(b.t, fc)
		crds, err := filepath.Glob(filepath.Join(src, "config", "crd", "bases", "*.yaml"))
		if err != nil || len(crds) == 0 {
			b.t.Fatalf("no CRDs in %s/config/crd/bases: %v", src, err)
		}
		testenv.InstallCRDs(b.t, crds...)
		metrics := freeAddr(b.t)
		args := []string{"--metrics-addr=" + metrics, "--health-addr=" + freeAddr(b.t)}
		if fc.name == "source-controller" {
			storage := freeAddr(b.t)
			args = append(args, "--storage-path="+b.t.TempDir(), "--storage-addr="+storage, "--storage-adv-addr="+storage)
		}
		f.procs = append(f.procs, startProcess(b.t, fc.name, bin, metrics, args, env))
	}
	return f
}

// deploy creates a Kustomization of repo's path, applied into ns every
// interval with wait and prune, and the repository's GitRepository when
// it is the first of repo's.
func (f *flux) deploy(ctx context.Context, repo *testenv.GitRepo, path, ns string, interval time.Duration) error {
	source, err := f.source(ctx, repo, interval)
	if err != nil {
		return err
	}
	k := fluxObject("kustomize.toolkit.fluxcd.io/v1", "Kustomization", ns, "app", map[string]any{
		"interval":        interval.String(),
		"timeout":         "2m",
		"path":            "./" + path,
		"prune":           true,
		"wait":            true,
		"targetNamespace": ns,
		"sourceRef":       map[string]any{"kind": "GitRepository", "namespace": f.sources, "name": source},
	})
	if err := f.c.Create(ctx, k); err != nil {
		return fmt.Errorf("create Kustomization %s/app: %w", ns, err)
	}
	return nil
}

// source returns the name of repo's GitRepository, creating it the first
// time: main, fetched every interval.
func (f *flux) source(ctx context.Context, repo *testenv.GitRepo, interval time.Duration) (string, error) {
	if name, ok := f.repos[repo.Dir]; ok {
		return name, nil
	}
	name := fmt.Sprintf("repo-%d", len(f.repos))
	g := fluxObject("source.toolkit.fluxcd.io/v1", "GitRepository", f.sources, name, map[string]any{
		"url":      f.git.URL(filepath.Base(repo.Dir)),
		"interval": interval.String(),
		"ref":      map[string]any{"branch": "main"},
	})
	if err := f.c.Create(ctx, g); err != nil {
		return "", fmt.Errorf("create GitRepository %s/%s: %w", f.sources, name, err)
	}
	f.repos[repo.Dir] = name
	return name, nil
}

// fluxObject is a Flux object of apiVersion and kind with spec.
func fluxObject(apiVersion, kind, ns, name string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion,
		"kind":       kind,
		"metadata":   map[string]any{"namespace": ns, "name": name},
		"spec":       spec,
	}}
}

// applied checks that the Kustomization of ns applied sha and is Ready.
func (f *flux) applied(ctx context.Context, ns, sha string) error {
	k := fluxObject("kustomize.toolkit.fluxcd.io/v1", "Kustomization", ns, "app", nil)
	if err := f.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, k); err != nil {
		return err
	}
	revision, _, _ := unstructured.NestedString(k.Object, "status", "lastAppliedRevision")
	if !strings.HasSuffix(revision, sha) || !readyCondition(k) {
		return fmt.Errorf("Kustomization %s/app is at %q", ns, revision)
	}
	return nil
}

// readyCondition reports whether obj's Ready condition is True.
func readyCondition(obj *unstructured.Unstructured) bool {
	conditions, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conditions {
		if c, ok := c.(map[string]any); ok && c["type"] == "Ready" {
			return c["status"] == "True"
		}
	}
	return false
}

// notify asks for a reconcile of repo's GitRepository, as `flux reconcile
// source git` does: its reconcile.fluxcd.io/requestedAt annotation set to
// now. kustomize-controller then reconciles every Kustomization of the
// GitRepository when its artifact changes.
func (f *flux) notify(ctx context.Context, repo *testenv.GitRepo) error {
	g := fluxObject("source.toolkit.fluxcd.io/v1", "GitRepository", f.sources, f.repos[repo.Dir], nil)
	patch := fmt.Sprintf(`{"metadata":{"annotations":{"reconcile.fluxcd.io/requestedAt":%q}}}`, time.Now().Format(time.RFC3339Nano))
	if err := f.c.Patch(ctx, g, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		return fmt.Errorf("annotate GitRepository %s/%s: %w", f.sources, g.GetName(), err)
	}
	return nil
}

// scrape reads the metrics of both controllers, each family holding the
// series of both.
func (f *flux) scrape() (metrics, error) {
	all := metrics{}
	for _, p := range f.procs {
		m, err := p.scrape()
		if err != nil {
			return nil, err
		}
		for name, family := range m {
			if all[name] == nil {
				all[name] = family
				continue
			}
			all[name].Metric = append(all[name].Metric, family.Metric...)
		}
	}
	return all, nil
}

// rss is the resident memory of both controllers together.
func (f *flux) rss() (anon, file float64, err error) {
	for _, p := range f.procs {
		a, fl, err := p.rss()
		if err != nil {
			return 0, 0, err
		}
		anon, file = anon+a, file+fl
	}
	return anon, file, nil
}
