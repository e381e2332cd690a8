package valuewrite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRead(t *testing.T) {
	values, err := Read(read(t, "values-dev.yaml"), []string{"image.tag", "replicaCount", "resources", "featureFlags.0", "ingress.host"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range values {
		got = append(got, v.String())
	}
	want := "image.tag=1.5.0 replicaCount=1 resources=sha256:b5d1e0824afd featureFlags.0=checkout-v2 ingress.host unset"
	if strings.Join(got, " ") != want {
		t.Errorf("values = %q\nwant     %q", strings.Join(got, " "), want)
	}
}

func TestReadAListItemByKey(t *testing.T) {
	values, err := Read(read(t, "kustomization-dev.yaml"), []string{"images.[name=web].newTag", "replicas.[name=web].count"})
	if err != nil {
		t.Fatal(err)
	}
	if got := values[0].String() + " " + values[1].String(); got != "images.[name=web].newTag=1.5.0 replicas.[name=web].count=3" {
		t.Errorf("values = %s", got)
	}
}

func TestReadErrorsNameThePath(t *testing.T) {
	for _, tc := range []struct {
		name, content, path, want string
	}{
		{"through a scalar", "image:\n  tag: 1.0.0\n", "image.tag.major", "image.tag.major: image.tag is a scalar, not a mapping"},
		{"a list for a key", "image: [web, 1.0.0]\n", "image.tag", "image.tag: image is a list, not a mapping"},
		{"a mapping for an item", "images: {web: 1.0.0}\n", "images.[name=web].newTag", "images.[name=web].newTag: images is a mapping, not a list"},
		{"a mapping for an index", "args: {a: b}\n", "args.0", "args.0: args is a mapping, not a list"},
		{"two documents", "a: 1\n---\nb: 2\n", "a", "holds 2 YAML documents, not one"},
		{"an alias", "base: &b {cpu: 1}\nweb: *b\n", "web", "web: holds a YAML anchor or alias, which is not promoted"},
		{"an empty part", "a: {b: 1}\n", "a..b", `a..b: "" is not a key, an index or [key=value]`},
		{"not YAML", "a: [\n", "a", "did not find expected node content"},
		{"a scalar document", "web:1.4.0\n", "a", "the document is a scalar, not a mapping"},
		{"a list document", "- web\n", "a", "the document is a list, not a mapping"},
	} {
		_, err := Read([]byte(tc.content), []string{tc.path})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// The values of dev are written into staging's file: the scalar keeps its
// comment, the mapping and the list are replaced or added whole, and the
// rest of the file stays as it was.
func TestSetKeepsTheFile(t *testing.T) {
	for _, tc := range []struct {
		from, to, golden string
		paths            []string
	}{
		{"values-dev.yaml", "values-staging.yaml", "values-staging.golden.yaml", []string{"image.tag", "resources", "featureFlags"}},
		{"kustomization-dev.yaml", "kustomization-prod.yaml", "kustomization-prod.golden.yaml", []string{"images.[name=web].newTag", "replicas.[name=web].count"}},
	} {
		values, err := Read(read(t, tc.from), tc.paths)
		if err != nil {
			t.Fatal(err)
		}
		got, changed, err := Set(read(t, tc.to), values)
		if err != nil {
			t.Fatal(err)
		}
		if want := read(t, tc.golden); !changed || string(got) != string(want) {
			t.Errorf("%s: changed %v, got:\n%s\nwant:\n%s", tc.to, changed, got, want)
		}
		again, changed, err := Set(got, values)
		if err != nil || changed || string(again) != string(got) {
			t.Errorf("%s: set twice: changed %v, err %v", tc.to, changed, err)
		}
	}
}

func TestSetCreatesWhatIsMissing(t *testing.T) {
	values, err := Read([]byte("ingress:\n  host: shop.example.com\nsidecars:\n- name: proxy\n  image: envoy:1.30\n"),
		[]string{"ingress.host", "sidecars.[name=proxy].image"})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := Set([]byte("replicaCount: 2\n"), values)
	if err != nil {
		t.Fatal(err)
	}
	want := "replicaCount: 2\ningress:\n  host: shop.example.com\nsidecars:\n- name: proxy\n  image: envoy:1.30\n"
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// A field created with the value a new field holds (null) is still
// written: the file did not hold it.
func TestSetCreatesANullField(t *testing.T) {
	values, err := Read([]byte("sidecar:\n"), []string{"sidecar"})
	if err != nil {
		t.Fatal(err)
	}
	got, changed, err := Set([]byte("replicaCount: 2\n"), values)
	if err != nil || !changed || string(got) != "replicaCount: 2\nsidecar:\n" {
		t.Errorf("set = %q, %v, %v", got, changed, err)
	}
}

func TestSetErrors(t *testing.T) {
	if _, _, err := Set([]byte("a: 1\n"), []Value{{Path: "image.tag"}}); err == nil || err.Error() != "image.tag: no such field to promote" {
		t.Errorf("an unset value: err = %v", err)
	}
	values, _ := Read([]byte("image: {tag: 1.0.0}\n"), []string{"image.tag"})
	if _, _, err := Set([]byte("image: web:1.0.0\n"), values); err == nil || err.Error() != "image.tag: image is a scalar, not a mapping" {
		t.Errorf("through a scalar: err = %v", err)
	}
}

func TestEditorEditsItsFileAlone(t *testing.T) {
	values, _ := Read([]byte("tag: 1.1.0\n"), []string{"tag"})
	e := Editor{File: "staging/values.yaml", Values: values}
	if _, changed, _ := e.Edit("prod/values.yaml", []byte("tag: 1.0.0\n")); changed {
		t.Error("edited another file")
	}
	if got, changed, err := e.Edit("staging/values.yaml", []byte("tag: 1.0.0\n")); err != nil || !changed || string(got) != "tag: 1.1.0\n" {
		t.Errorf("edit = %q, %v, %v", got, changed, err)
	}
}

// A value shows the same in two files that comment or lay it out
// otherwise, and otherwise when it differs.
func TestStringIgnoresCommentsAndStyle(t *testing.T) {
	show := func(content string) string {
		v, err := Read([]byte(content), []string{"resources"})
		if err != nil {
			t.Fatal(err)
		}
		return v[0].String()
	}
	flow := show("resources: {cpu: 500m, memory: 256Mi}\n")
	if block := show("resources: # dev's\n  cpu: 500m\n  memory: 256Mi # enough\n"); block != flow {
		t.Errorf("%s != %s", block, flow)
	}
	if other := show("resources: {cpu: 250m, memory: 256Mi}\n"); other == flow {
		t.Errorf("another value shows as %s too", other)
	}
}
