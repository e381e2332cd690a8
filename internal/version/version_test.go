package version

import (
	"os"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// TestInstallNamesThisVersionsImage builds config/default as `kubectl
// apply -k` does and finds weir's Deployment running the image tagged
// Version, the tag a release pushes.
func TestInstallNamesThisVersionsImage(t *testing.T) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), "../../config/default")
	if err != nil {
		t.Fatalf("kustomize build config/default: %v", err)
	}
	want := "ghcr.io/weir-dev/weir:" + Version
	found := false
	for _, r := range res.Resources() {
		if r.GetKind() != "Deployment" || r.GetName() != "weir-controller" {
			continue
		}
		found = true
		image, err := r.GetString("spec.template.spec.containers[0].image")
		if err != nil {
			t.Fatal(err)
		}
		if image != want {
			t.Errorf("config/default runs image %s, want %s", image, want)
		}
	}
	if !found {
		t.Error("config/default has no Deployment weir-controller")
	}
}

func TestGetNamesTheVersionAndToolchain(t *testing.T) {
	v := Get()
	if v.Version != Version || v.GoVersion == "" || v.Commit == "" || v.Platform == "" {
		t.Errorf("Get() = %+v", v)
	}
}

func TestMakeBuildsWithTheBuildTags(t *testing.T) {
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(makefile), "$(GO) build -tags="+BuildTags+" ") {
		t.Errorf("the Makefile does not build weir with -tags=%s", BuildTags)
	}
}
