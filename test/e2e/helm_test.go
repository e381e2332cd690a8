package e2e

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/controller"
	"weir.dev/weir/internal/render"
	"weir.dev/weir/internal/testenv"
)

// charts holds the charts the stories keep in Git or publish.
const charts = "testdata/charts"

// TestHelmChartInGit: a chart in Git with a values file beside it and
// inline values in the Application. Each value comes from where precedence
// says; a value changed in Git reaches the cluster, and a template removed
// from the chart takes its object with it.
func TestHelmChartInGit(t *testing.T) {
	files := chartFiles(t, "web", "deploy/web")
	files["deploy/prod.yaml"] = "size: large\ngreeting: hello from prod\n"
	s := given(t, files)
	s.whenApplication(func(spec *weirv1.ApplicationSpec) {
		spec.Source.Path = "deploy"
		spec.Render = helmRender(&weirv1.HelmSpec{
			Chart:       "web",
			ValuesFiles: []string{"prod.yaml"},
			Values:      &apiextensionsv1.JSON{Raw: []byte(`{"greeting": "hello from the Application"}`)},
		})
	})
	s.thenApplied(s.repo.Head())
	s.thenData("shop-settings", map[string]string{
		"color":    "red",                        // the chart's default
		"size":     "large",                      // prod.yaml over the default
		"greeting": "hello from the Application", // inline over prod.yaml
	})
	extra := s.thenData("shop-extra", nil)
	if v := extra.Data["kubeVersion"]; !strings.HasPrefix(v, "v1.") {
		t.Errorf("the chart saw Kubernetes %q, want the cluster's version", v)
	}

	changed := s.commit("medium is enough", map[string]string{"deploy/prod.yaml": "size: medium\n"})
	s.thenApplied(changed)
	s.thenData("shop-settings", map[string]string{"size": "medium"})

	removed := s.commit("drop the extra ConfigMap", map[string]string{"deploy/web/templates/extra.yaml": ""})
	s.thenApplied(removed)
	s.absent(&corev1.ConfigMap{}, "shop-extra")
}

func TestHelmDependencyInChartsFolder(t *testing.T) {
	s := given(t, chartFiles(t, "umbrella", "."))
	s.whenApplication(func(spec *weirv1.ApplicationSpec) { spec.Render = helmRender(nil) })
	s.thenApplied(s.repo.Head())
	s.thenData("shop-umbrella", map[string]string{"greeting": "hello from the parent"})
	s.thenData("shop-sub", map[string]string{"greeting": "hello from the parent"})
}

// TestHelmChartDetected: a path that holds a Chart.yaml is rendered as a
// chart without render.type, as Argo CD does.
func TestHelmChartDetected(t *testing.T) {
	s := given(t, chartFiles(t, "web", "deploy"))
	s.whenApplication(func(spec *weirv1.ApplicationSpec) { spec.Source.Path = "deploy" })
	s.thenApplied(s.repo.Head())
	s.thenData("shop-settings", map[string]string{"color": "red"})
}

// TestHelmCRDsAndHooks: the chart's CRD is applied before its custom
// resource, in one sync; the pre-install hook before the templates, the
// post-install hook after them, and the test hook never.
func TestHelmCRDsAndHooks(t *testing.T) {
	s := given(t, chartFiles(t, "widgets", "."))
	s.whenApplication(func(spec *weirv1.ApplicationSpec) { spec.Render = helmRender(nil) })
	app := s.thenApplied(s.repo.Head())
	if len(app.Status.History) != 1 {
		t.Errorf("took %d syncs, want one: %+v", len(app.Status.History), app.Status.History)
	}
	gadget := &unstructured.Unstructured{}
	gadget.SetGroupVersionKind(schema.GroupVersionKind{Group: "helm.e2e.weir.dev", Version: "v1", Kind: "Gadget"})
	s.get(gadget, "shop")

	migrate, settings, announce := s.thenData("shop-migrate", nil), s.thenData("shop-settings", nil), s.thenData("shop-announce", nil)
	// One etcd orders every write: a lower resourceVersion was written first.
	if !(resourceVersion(t, migrate) < resourceVersion(t, settings) && resourceVersion(t, settings) < resourceVersion(t, announce)) {
		t.Errorf("written in the order migrate %s, settings %s, announce %s; want pre-install hook, template, post-install hook",
			migrate.ResourceVersion, settings.ResourceVersion, announce.ResourceVersion)
	}
	s.absent(&corev1.ConfigMap{}, "shop-test")
}

// TestHelmChartFromHTTPSRepository: the chart comes from a private chart
// repository, at the highest version in a range; a newly published version
// in the range is the next revision.
func TestHelmChartFromHTTPSRepository(t *testing.T) {
	const user, password = "chart-reader", "chart-pass-51d9"
	repo := testenv.NewChartRepo(t, user, password, true)
	repo.Add(t, filepath.Join(charts, "web"), "1.0.0")
	repo.Add(t, filepath.Join(charts, "web"), "2.0.0")
	s := given(t, map[string]string{"values.yaml": "color: green\n"})
	s.secret("chart-credentials", map[string][]byte{"username": []byte(user), "password": []byte(password)})
	s.whenApplication(func(spec *weirv1.ApplicationSpec) {
		spec.Render = helmRender(&weirv1.HelmSpec{
			ChartRef: &weirv1.HelmChartRef{
				Repository: repo.URL(), Name: "web", Version: "^1.0.0",
				SecretRef: &weirv1.LocalObjectReference{Name: "chart-credentials"},
			},
			ValuesFiles: []string{"values.yaml"},
		})
	})
	s.thenApplied(s.repo.Head() + ", chart web@1.0.0")
	s.thenData("shop-settings", map[string]string{"chartVersion": "1.0.0", "color": "green"})

	repo.Add(t, filepath.Join(charts, "web"), "1.1.0")
	app := s.thenApplied(s.repo.Head() + ", chart web@1.1.0")
	s.thenData("shop-settings", map[string]string{"chartVersion": "1.1.0"})
	s.thenNoSecretShown(app, map[string][]byte{"password": []byte(password)})
}

func TestHelmChartFromOCIRegistry(t *testing.T) {
	registry := testenv.NewOCIRegistry(t, "", "")
	registry.Push(t, filepath.Join(charts, "web"), "1.0.0")
	s := given(t, map[string]string{"values.yaml": "color: blue\n"})
	s.whenApplication(func(spec *weirv1.ApplicationSpec) {
		spec.Render = helmRender(&weirv1.HelmSpec{
			ChartRef:    &weirv1.HelmChartRef{Repository: registry.URL(), Name: "web", Version: "1.0.0", PlainHTTP: true},
			ValuesFiles: []string{"values.yaml"},
		})
	})
	s.thenApplied(s.repo.Head() + ", chart web@1.0.0")
	s.thenData("shop-settings", map[string]string{"chartVersion": "1.0.0", "color": "blue"})
}

// TestHelmValuesFileOutsideTheCheckout: a values file that climbs out of
// the checkout is refused, naming it, and nothing is applied.
func TestHelmValuesFileOutsideTheCheckout(t *testing.T) {
	s := given(t, chartFiles(t, "web", "."))
	s.whenApplication(func(spec *weirv1.ApplicationSpec) {
		spec.Render = helmRender(&weirv1.HelmSpec{ValuesFiles: []string{"../../../../etc/passwd"}})
	})
	app := s.thenCondition(weirv1.StalledCondition, metav1.ConditionTrue, controller.ReasonRenderFailed)
	stalled := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.StalledCondition)
	if want := "render .: valuesFiles[0]: ../../../../etc/passwd: path leads outside the checkout root"; !strings.Contains(stalled.Message, want) {
		t.Errorf("Stalled message %q does not say %q", stalled.Message, want)
	}
	if len(app.Status.Inventory) != 0 {
		t.Errorf("applied %v, want nothing", app.Status.Inventory)
	}
}

// helmRender renders with Helm, tuned by spec (nil for the defaults).
func helmRender(spec *weirv1.HelmSpec) weirv1.RenderSpec {
	return weirv1.RenderSpec{Type: render.TypeHelm, Helm: spec}
}

// chartFiles reads the chart testdata/charts/<name> as files to commit at
// dir in a story's repository.
func chartFiles(t *testing.T, name, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	root := filepath.Join(charts, name)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		files[path.Join(dir, filepath.ToSlash(rel))] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// thenData checks keys of the ConfigMap name and returns it.
func (s *story) thenData(name string, want map[string]string) *corev1.ConfigMap {
	s.t.Helper()
	cm := &corev1.ConfigMap{}
	s.get(cm, name)
	for key, value := range want {
		if got := cm.Data[key]; got != value {
			s.t.Errorf("ConfigMap %s: %s = %q, want %q", name, key, got, value)
		}
	}
	return cm
}

func resourceVersion(t *testing.T, obj metav1.Object) int64 {
	t.Helper()
	rv, err := strconv.ParseInt(obj.GetResourceVersion(), 10, 64)
	if err != nil {
		t.Fatalf("%s: resourceVersion %q: %v", obj.GetName(), obj.GetResourceVersion(), err)
	}
	return rv
}
