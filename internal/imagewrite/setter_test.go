package imagewrite

import (
	"os"
	"path/filepath"
	"testing"
)

var web150 = Image{Namespace: "apps", Name: "web", Repository: "registry.example.com/team/web", Tag: "1.5.0"}

func TestSetImages(t *testing.T) {
	for _, name := range []string{"deployment", "kustomization"} {
		t.Run(name, func(t *testing.T) {
			in := readFile(t, name+".yaml")
			got, changed, err := SetImages(in, []Image{web150})
			if err != nil {
				t.Fatal(err)
			}
			want := readFile(t, name+".golden.yaml")
			if !changed || string(got) != string(want) {
				t.Errorf("SetImages changed=%v:\n%s\nwant:\n%s", changed, got, want)
			}
			again, changed, err := SetImages(got, []Image{web150})
			if err != nil || changed || string(again) != string(got) {
				t.Errorf("SetImages again changed=%v, err %v", changed, err)
			}
		})
	}
}

func TestSetImagesLeavesOtherFilesAlone(t *testing.T) {
	for _, in := range []string{
		"# a comment\nkey:   value   # {\"$other\": 1}\n",
		"images:\n- name: unrelated\n",
		"not: [yaml\n",
	} {
		got, changed, err := SetImages([]byte(in), []Image{web150})
		if err != nil || changed || string(got) != in {
			t.Errorf("SetImages(%q) = %q, %v, %v; want it unchanged", in, got, changed, err)
		}
	}
}

func TestSetImagesRefusesBrokenYAMLWithAMarker(t *testing.T) {
	in := "a: [b # {\"$imagepolicy\": \"apps:web\"}\n"
	if _, _, err := SetImages([]byte(in), []Image{web150}); err == nil {
		t.Error("SetImages of broken YAML: no error")
	}
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
