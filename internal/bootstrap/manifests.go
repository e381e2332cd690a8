package bootstrap

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/config"
)

// The files bootstrap writes in the repository's directory.
const (
	// installFile holds config/default as built: weir itself.
	installFile = "weir.yaml"
	// syncFile holds the Application that syncs the directory and the
	// permissions it needs to apply weir.
	syncFile = "weir-sync.yaml"
	// kustomizationFile lists both, where users add patches.
	kustomizationFile = "kustomization.yaml"
)

// Names of the objects bootstrap adds to weir's install.
const (
	// Namespace is where weir is installed, and its Application lives.
	Namespace = "weir-system"
	// ApplicationName is the Application that keeps weir in step with Git.
	ApplicationName = "weir"
	// selfApplyRole lets weir apply its own install: a ClusterRole
	// aggregated into weir-apply.
	selfApplyRole = "weir-self-apply"
)

// install builds the embedded config/default, as `kubectl apply -k
// config/default` applies it.
func install() ([]*unstructured.Unstructured, error) {
	mem := filesys.MakeFsInMemory()
	err := fs.WalkDir(config.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(config.FS, p)
		if err != nil {
			return err
		}
		return mem.WriteFile(path.Join("/config", p), data)
	})
	if err != nil {
		return nil, err
	}
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(mem, "/config/default")
	if err != nil {
		return nil, fmt.Errorf("build config/default: %w", err)
	}
	var objs []*unstructured.Unstructured
	for _, r := range res.Resources() {
		data, err := r.MarshalJSON()
		if err != nil {
			return nil, err
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.GetKind(), r.GetName(), err)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// aggregates reports whether o is a ClusterRole that aggregates others,
// as weir-apply does. Only a cluster administrator may apply one, so weir's
// Application cannot: bootstrap creates it and leaves it out of Git; and
// its rules are the aggregation controller's, so it is left as it is once
// created.
func aggregates(o *unstructured.Unstructured) bool {
	_, ok := o.Object["aggregationRule"]
	return ok && o.GetKind() == "ClusterRole"
}

// selfApply is the ClusterRole that lets weir apply, watch and prune every
// kind of objs: what its Application needs to keep weir installed. Kinds
// are named by their group and lower-case plural, as every kind of weir's
// install is.
func selfApply(objs []*unstructured.Unstructured) *rbacv1.ClusterRole {
	groups := map[string][]string{}
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		plural, _ := meta.UnsafeGuessKindToResource(gvk)
		if !slices.Contains(groups[gvk.Group], plural.Resource) {
			groups[gvk.Group] = append(groups[gvk.Group], plural.Resource)
		}
	}
	role := &rbacv1.ClusterRole{
		TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: selfApplyRole, Labels: map[string]string{
			"app.kubernetes.io/name": "weir", "rbac.weir.dev/aggregate-to-apply": "true",
		}},
	}
	for _, g := range slices.Sorted(maps.Keys(groups)) {
		resources := groups[g]
		slices.Sort(resources)
		role.Rules = append(role.Rules, rbacv1.PolicyRule{
			APIGroups: []string{g}, Resources: resources,
			Verbs: []string{"get", "list", "watch", "create", "patch", "delete"},
		})
	}
	return role
}

// application is the Application that syncs the bootstrap directory.
func application(opts Options) *weirv1.Application {
	app := &weirv1.Application{
		TypeMeta:   metav1.TypeMeta{APIVersion: weirv1.GroupVersion.String(), Kind: "Application"},
		ObjectMeta: metav1.ObjectMeta{Name: ApplicationName, Namespace: Namespace},
		Spec: weirv1.ApplicationSpec{Source: weirv1.GitSource{
			URL:  opts.URL,
			Ref:  weirv1.GitRef{Branch: opts.Branch},
			Path: opts.Path,
		}},
	}
	if opts.Interval > 0 {
		app.Spec.Sync.Interval = &metav1.Duration{Duration: opts.Interval}
	}
	if opts.SecretName != "" {
		app.Spec.Source.SecretRef = &weirv1.LocalObjectReference{Name: opts.SecretName}
	}
	return app
}

// tree is what bootstrap writes in its directory of the repository.
type tree struct {
	// files are written every time, by name: they are bootstrap's.
	files map[string][]byte
	// seeds are written when missing: they are then the user's.
	seeds map[string][]byte
}

// files are the files bootstrap writes under opts.Path, and the objects
// to apply: those the files hold, and the roles that aggregate others.
func files(opts Options) (tree, []*unstructured.Unstructured, error) {
	objs, err := install()
	if err != nil {
		return tree{}, nil, err
	}
	adminOnly := slices.Clone(objs)
	objs = slices.DeleteFunc(objs, aggregates)
	adminOnly = slices.DeleteFunc(adminOnly, func(o *unstructured.Unstructured) bool { return !aggregates(o) })
	app := toUnstructured(application(opts))
	syncObjs := []*unstructured.Unstructured{toUnstructured(selfApply(append(slices.Clone(objs), app))), app}
	installYAML, err := multiDoc(objs)
	if err != nil {
		return tree{}, nil, err
	}
	syncYAML, err := multiDoc(syncObjs)
	if err != nil {
		return tree{}, nil, err
	}
	kustomization := "# weir, managed by weir (weir bootstrap): patches go here.\n" +
		"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- " + installFile + "\n- " + syncFile + "\n"
	return tree{
		files: map[string][]byte{installFile: installYAML, syncFile: syncYAML},
		seeds: map[string][]byte{kustomizationFile: []byte(kustomization)},
	}, slices.Concat(adminOnly, objs, syncObjs), nil
}

// toUnstructured converts one of weir's typed objects, dropping the fields
// that are empty in its Go form (creationTimestamp, status).
func toUnstructured(o runtime.Object) *unstructured.Unstructured {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		panic(fmt.Sprintf("convert %T: %v", o, err)) // only weir's own types are converted
	}
	unstructured.RemoveNestedField(m, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(m, "status")
	return &unstructured.Unstructured{Object: m}
}

// multiDoc writes objs as one YAML stream.
func multiDoc(objs []*unstructured.Unstructured) ([]byte, error) {
	var b bytes.Buffer
	for i, o := range objs {
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", o.GetKind(), o.GetName(), err)
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(data)
	}
	return b.Bytes(), nil
}
