package cli

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestDescribeRollout compares the status text of each Rollout in
// testdata/rollout with its golden .txt file.
func TestDescribeRollout(t *testing.T) {
	files, err := filepath.Glob("testdata/rollout/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			ro := &weirv1.Rollout{}
			if err := yaml.UnmarshalStrict(data, ro); err != nil {
				t.Fatal(err)
			}
			got := describeRollout(ro)
			golden := strings.TrimSuffix(file, ".yaml") + ".txt"
			if *updateGolden {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("describeRollout:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestPickRollout(t *testing.T) {
	rollout := func(name string) weirv1.ObjectRef {
		return weirv1.ObjectRef{Group: "weir.dev", Version: "v1alpha1", Kind: "Rollout", Namespace: "shop", Name: name}
	}
	deployment := weirv1.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
	tests := []struct {
		name      string
		inventory []weirv1.ObjectRef
		flag      string
		want      string // the Rollout picked, or a part of the error
	}{
		{"the only one", []weirv1.ObjectRef{deployment, rollout("web")}, "", "web"},
		{"named", []weirv1.ObjectRef{rollout("web"), rollout("api")}, "api", "api"},
		{"several unnamed", []weirv1.ObjectRef{rollout("web"), rollout("api")}, "", "applied 2 Rollouts ([web api]): name one with --rollout"},
		{"none", []weirv1.ObjectRef{deployment}, "", "applied no Rollout"},
		{"named but absent", []weirv1.ObjectRef{rollout("web")}, "api", `applied no Rollout named "api"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := &weirv1.Application{}
			app.Namespace, app.Name = "shop", "shop"
			app.Status.Inventory = tt.inventory
			ref, err := pickRollout(app, tt.flag)
			got := ref.Name
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("pickRollout = %q, want %q", got, tt.want)
			}
		})
	}
}
