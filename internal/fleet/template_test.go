package fleet

import (
	"errors"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

func TestSubstitute(t *testing.T) {
	params := map[string]string{"name": "web", "cluster.labels.region": "eu", "empty": ""}
	tests := []struct {
		in, want, err string
	}{
		{in: "plain", want: "plain"},
		{in: "{{name}}", want: "web"},
		{in: "apps/{{ name }}/{{cluster.labels.region}}", want: "apps/web/eu"},
		{in: "x{{empty}}y", want: "xy"},
		{in: "{{name}}{{name}}", want: "webweb"},
		{in: "a }} b", want: "a }} b"},
		{in: "{{missing}}", err: `no parameter "missing"`},
		{in: "{{}}", err: `no parameter ""`},
		{in: "apps/{{name", err: `"{{" without "}}"`},
	}
	for _, tt := range tests {
		got, err := Substitute(tt.in, params)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("Substitute(%q) = %q, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Substitute(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// FuzzSubstitute: no input panics, and a string without "{{" is returned
// as it is.
func FuzzSubstitute(f *testing.F) {
	for _, s := range []string{"", "{{name}}", "a{{ name }}b{{x}}", "{{", "}}{{", "{{{{name}}}}"} {
		f.Add(s)
	}
	params := map[string]string{"name": "web", "{{name": "x"}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Substitute(s, params)
		if !strings.Contains(s, "{{") && (err != nil || out != s) {
			t.Fatalf("Substitute(%q) = %q, %v", s, out, err)
		}
	})
}

// testSet is a set whose template makes "<name>-app" from apps/<path>.
func testSet(spec string) *weirv1.ApplicationSet {
	if spec == "" {
		spec = `{"source": {"url": "https://git.example.com/fleet", "path": "apps/{{name}}"}, "destination": {"namespace": "{{name}}"}}`
	}
	return &weirv1.ApplicationSet{
		ObjectMeta: metav1.ObjectMeta{Name: "fleet", Namespace: "team", UID: "set-uid"},
		Spec: weirv1.ApplicationSetSpec{Template: weirv1.ApplicationTemplate{
			Metadata: weirv1.ApplicationTemplateMeta{Name: "{{name}}-app", Labels: map[string]string{"region": "{{region}}"}},
			Spec:     apiextensionsv1.JSON{Raw: []byte(spec)},
		}},
	}
}

func elem(origin string, kv ...string) Element {
	params := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		params[kv[i]] = kv[i+1]
	}
	return Element{Params: params, Origin: origin}
}

func TestRender(t *testing.T) {
	g, err := Render(testSet(""), elem("list element 0", "name", "web", "region", "eu"))
	if err != nil {
		t.Fatal(err)
	}
	app := g.Application
	if app.GetName() != "web-app" || app.GetNamespace() != "team" {
		t.Errorf("Application %s/%s, want team/web-app", app.GetNamespace(), app.GetName())
	}
	if got := app.GetLabels(); got["region"] != "eu" || got[weirv1.ApplicationSetLabel] != "fleet" {
		t.Errorf("labels %v", got)
	}
	if got := app.GetAnnotations()[weirv1.ApplicationSetHashAnnotation]; got != g.Hash || len(g.Hash) != 16 {
		t.Errorf("hash annotation %q, hash %q", got, g.Hash)
	}
	if refs := app.GetOwnerReferences(); len(refs) != 1 || refs[0].UID != "set-uid" || refs[0].Controller == nil || !*refs[0].Controller {
		t.Errorf("owner references %v", refs)
	}
	spec := app.Object["spec"].(map[string]any)
	if p := spec["source"].(map[string]any)["path"]; p != "apps/web" {
		t.Errorf("spec.source.path %v", p)
	}
	other, err := Render(testSet(""), elem("list element 1", "name", "web", "region", "us"))
	if err != nil || other.Hash == g.Hash {
		t.Errorf("a different label kept the hash %q (%v)", other.Hash, err)
	}
}

func TestRenderErrorsNameTheElementAndTheField(t *testing.T) {
	tests := []struct {
		name string
		spec string
		e    Element
		want string
	}{
		{"missing parameter", "", elem("cluster Secret eu-1", "name", "web"),
			`cluster Secret eu-1: template field metadata.labels.region: no parameter "region"`},
		{"missing parameter in the spec", `{"source": {"url": "x", "path": "{{dir}}"}}`, elem("directory apps/a", "name", "a", "region", "eu"),
			`directory apps/a: template field spec.source.path: no parameter "dir"`},
		{"in a list", `{"source": {"url": "x"}, "render": {"helm": {"valuesFiles": ["a", "{{vf}}"]}}}`, elem("e", "name", "a", "region", "eu"),
			`e: template field spec.render.helm.valuesFiles[1]: no parameter "vf"`},
		{"invalid name", "", elem("file envs/a.yaml", "name", "Web_App", "region", "eu"),
			`file envs/a.yaml: template field metadata.name: "Web_App-app" is not a valid name`},
		{"invalid label", "", elem("e", "name", "web", "region", "eu/west"),
			`e: template field metadata.labels.region: "eu/west" is not a valid label value`},
		{"unknown field", `{"source": {"url": "x"}, "destinaton": {}}`, elem("e", "name", "web", "region", "eu"),
			`e: template field spec: json: unknown field "destinaton"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(testSet(tt.spec), tt.e)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error %v, want %s", err, tt.want)
			}
			if te := (*TemplateError)(nil); !errors.As(err, &te) {
				t.Errorf("%v is not a TemplateError", err)
			}
		})
	}
}

func TestRenderAllRefusesTwoElementsOfOneName(t *testing.T) {
	_, err := RenderAll(testSet(""), []Element{
		elem("list element 0 of spec.generators[0]", "name", "web", "region", "eu"),
		elem("list element 1 of spec.generators[0]", "name", "api", "region", "eu"),
		elem("directory apps/web", "name", "web", "region", "us"),
	})
	want := "list element 0 of spec.generators[0] and directory apps/web both make Application web-app"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %s", err, want)
	}
}
