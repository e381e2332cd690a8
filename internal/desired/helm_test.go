package desired

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	clienttesting "k8s.io/client-go/testing"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/render"
	"weir.dev/weir/internal/source"
	"weir.dev/weir/internal/source/helmrepo"
)

// fakeCharts records the pull it is asked for and returns a chart.
type fakeCharts struct {
	ref   helmrepo.Ref
	creds helmrepo.Credentials
}

func (f *fakeCharts) Pull(_ context.Context, ref helmrepo.Ref, creds helmrepo.Credentials) (helmrepo.Chart, error) {
	f.ref, f.creds = ref, creds
	return helmrepo.Chart{Path: "/cache/web-1.4.2.tgz", Name: ref.Name, Version: "1.4.2"}, nil
}

func TestHelmOptions(t *testing.T) {
	no := false
	tests := []struct {
		name          string
		helm          *weirv1.HelmSpec
		want          render.Helm
		wantNamespace string
		wantRevision  string
	}{
		{
			name:          "defaults: the Application's name and destination",
			want:          render.Helm{ReleaseName: "shop", Namespace: "shop-prod"},
			wantNamespace: "shop-prod",
			wantRevision:  "main@sha1:abc",
		},
		{
			name: "everything set",
			helm: &weirv1.HelmSpec{
				Chart: "charts/web", ReleaseName: "web", Namespace: "web-prod", IncludeCRDs: &no,
				ValuesFiles: []string{"prod.yaml"},
				Values:      &apiextensionsv1.JSON{Raw: []byte(`{"replicas": 3, "image": {"tag": "1.2"}}`)},
			},
			want: render.Helm{
				Chart: "charts/web", ReleaseName: "web", Namespace: "web-prod", SkipCRDs: true,
				ValuesFiles: []string{"prod.yaml"},
				Values:      map[string]any{"replicas": float64(3), "image": map[string]any{"tag": "1.2"}},
			},
			wantNamespace: "web-prod",
			wantRevision:  "main@sha1:abc",
		},
		{
			name: "chart from a repository",
			helm: &weirv1.HelmSpec{ChartRef: &weirv1.HelmChartRef{
				Repository: "oci://registry.example.com/charts", Name: "web", Version: "^1.4.0",
				SecretRef: &weirv1.LocalObjectReference{Name: "charts-login"},
			}},
			want:          render.Helm{Archive: "/cache/web-1.4.2.tgz", ReleaseName: "shop", Namespace: "shop-prod"},
			wantNamespace: "shop-prod",
			wantRevision:  "main@sha1:abc, chart web@1.4.2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := application(tt.helm)
			charts := &fakeCharts{}
			l := &Loader{Reader: fake.NewClientBuilder().WithObjects(chartsLogin(app.Namespace)).Build(), Charts: charts}
			state := State{Artifact: source.Artifact{Revision: "main@sha1:abc"}, Namespace: app.DestinationNamespace()}
			got, err := l.helmOptions(t.Context(), app, &state)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("options:\n got %+v\nwant %+v", *got, tt.want)
			}
			if state.Namespace != tt.wantNamespace || state.Artifact.Revision != tt.wantRevision {
				t.Errorf("state: namespace %q revision %q, want %q %q", state.Namespace, state.Artifact.Revision, tt.wantNamespace, tt.wantRevision)
			}
			if tt.helm != nil && tt.helm.ChartRef != nil && charts.creds != (helmrepo.Credentials{Username: "reader", Password: "s3cret"}) {
				t.Errorf("pulled with %+v, want the Secret's credentials", charts.creds)
			}
		})
	}
}

func TestHelmOptionsChartRefNotEnabled(t *testing.T) {
	app := application(&weirv1.HelmSpec{ChartRef: &weirv1.HelmChartRef{Repository: "https://charts.example.com", Name: "web", Version: "1.0.0"}})
	_, err := (&Loader{}).helmOptions(t.Context(), app, &State{})
	if de := (*Error)(nil); !errors.As(err, &de) || de.Stage != StageFetch {
		t.Errorf("got %v, want a fetch error", err)
	}
}

func TestHelmCapabilities(t *testing.T) {
	dc := &fakediscovery.FakeDiscovery{
		Fake:               &clienttesting.Fake{Resources: []*metav1.APIResourceList{{GroupVersion: "example.weir.dev/v1", APIResources: []metav1.APIResource{{Name: "widgets", Kind: "Widget"}}}}},
		FakedServerVersion: &version.Info{GitVersion: "v1.37.2", Major: "1", Minor: "37"},
	}
	caps, err := (&Loader{Discovery: dc}).capabilities()
	if err != nil {
		t.Fatal(err)
	}
	if caps.KubeVersion != "v1.37.2" {
		t.Errorf("KubeVersion = %q, want v1.37.2", caps.KubeVersion)
	}
	for _, want := range []string{"example.weir.dev/v1", "example.weir.dev/v1/Widget"} {
		if !slices.Contains(caps.APIVersions, want) {
			t.Errorf("APIVersions %v lack %s", caps.APIVersions, want)
		}
	}
}

func application(helm *weirv1.HelmSpec) *weirv1.Application {
	return &weirv1.Application{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "shop"},
		Spec: weirv1.ApplicationSpec{
			Render:      weirv1.RenderSpec{Type: render.TypeHelm, Helm: helm},
			Destination: weirv1.Destination{Namespace: "shop-prod"},
		},
	}
}

func chartsLogin(namespace string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "charts-login", Namespace: namespace},
		Data:       map[string][]byte{"username": []byte("reader"), "password": []byte("s3cret")},
	}
}
