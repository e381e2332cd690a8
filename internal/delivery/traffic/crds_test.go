package traffic

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/internal/testenv"
)

// replaceCRD installs the CRD in file, changed by edit, over whatever CRD
// of that name the cluster has (testenv.InstallCRDs keeps one present), so
// one test can run against several versions of an API. It returns once the
// CRD is Established; ready then says whether the new schema is in force.
func replaceCRD(t *testing.T, file string, edit func(*apiextensionsv1.CustomResourceDefinition), ready func(ctx context.Context, c client.Client) bool) {
	t.Helper()
	c := testenv.Client(t, apiextensionsv1.AddToScheme)
	ctx := testenv.Context(t, time.Minute)
	crd := readCRD(t, file)
	if edit != nil {
		edit(crd)
	}
	live := &apiextensionsv1.CustomResourceDefinition{}
	err := c.Get(ctx, client.ObjectKey{Name: crd.Name}, live)
	switch {
	case apierrors.IsNotFound(err):
		err = c.Create(ctx, crd)
	case err == nil:
		live.Spec = crd.Spec
		err = c.Update(ctx, live)
	}
	if err != nil {
		t.Fatalf("install CRD %s: %v", crd.Name, err)
	}
	if ready == nil {
		ready = func(context.Context, client.Client) bool { return true }
	}
	err = wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKey{Name: crd.Name}, live); err != nil {
			return false, nil
		}
		for _, cond := range live.Status.Conditions {
			if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
				return ready(ctx, c), nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("CRD %s from %s is not in force: %v", crd.Name, file, err)
	}
}

// readCRD reads the one CRD in file.
func readCRD(t *testing.T, file string) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	decoder := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		err := decoder.Decode(crd)
		if errors.Is(err, io.EOF) {
			t.Fatalf("%s holds no CustomResourceDefinition", file)
		}
		if err != nil {
			t.Fatalf("read %s: %v", file, err)
		}
		if crd.Kind == "CustomResourceDefinition" {
			return crd
		}
	}
}

// withoutMirrorPercent removes requestMirror's percent and fraction from
// a Gateway API HTTPRoute CRD, as it was before Gateway API v1.2.
func withoutMirrorPercent(crd *apiextensionsv1.CustomResourceDefinition) {
	for i := range crd.Spec.Versions {
		if s := crd.Spec.Versions[i].Schema; s != nil {
			stripMirrorPercent(s.OpenAPIV3Schema)
		}
	}
}

func stripMirrorPercent(s *apiextensionsv1.JSONSchemaProps) {
	if s == nil {
		return
	}
	for name, p := range s.Properties {
		if name == "requestMirror" {
			delete(p.Properties, "percent")
			delete(p.Properties, "fraction")
			p.XValidations = nil
		}
		stripMirrorPercent(&p)
		s.Properties[name] = p
	}
	if s.Items != nil {
		stripMirrorPercent(s.Items.Schema)
	}
}
