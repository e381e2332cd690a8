package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ModuleDir returns the directory of a module in weir's build graph, for
// tests that use files a dependency ships (CRDs, charts).
func ModuleDir(t testing.TB, module string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
	if err != nil {
		t.Fatalf("locate module %s: %v", module, err)
	}
	return strings.TrimSpace(string(out))
}

// InstallCRDs applies the CRDs in the given YAML files and waits until each
// is Established. CRDs are cluster-wide, so one already present is kept.
func InstallCRDs(t testing.TB, files ...string) {
	t.Helper()
	c := Client(t, apiextensionsv1.AddToScheme)
	ctx := Context(t, time.Minute)
	for _, file := range files {
		for _, crd := range readCRDs(t, file) {
			if err := c.Create(ctx, crd); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatalf("install CRD %s from %s: %v", crd.Name, filepath.Base(file), err)
			}
			Eventually(t, 30*time.Second, "CRD "+crd.Name+" Established", func(ctx context.Context) error {
				return crdEstablished(ctx, c, crd.Name)
			})
		}
	}
}

func readCRDs(t testing.TB, file string) []*apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var crds []*apiextensionsv1.CustomResourceDefinition
	decoder := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		err := decoder.Decode(crd)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read %s: %v", file, err)
		}
		if crd.Kind == "CustomResourceDefinition" {
			crds = append(crds, crd)
		}
	}
	if len(crds) == 0 {
		t.Fatalf("%s holds no CustomResourceDefinition", file)
	}
	return crds
}

func crdEstablished(ctx context.Context, c client.Client, name string) error {
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, crd); err != nil {
		return err
	}
	for _, cond := range crd.Status.Conditions {
		if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
			return nil
		}
	}
	return fmt.Errorf("CRD %s is not Established yet", name)
}
