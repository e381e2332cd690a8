package render

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func BenchmarkRenderPlain50(b *testing.B) {
	root := benchTree(b, "")
	b.ReportAllocs()
	for b.Loop() {
		renderN(b, root, 50)
	}
}

func BenchmarkRenderKustomize50(b *testing.B) {
	root := benchTree(b, "namePrefix: bench-\nlabels:\n  - pairs: {team: shop}\n")
	b.ReportAllocs()
	for b.Loop() {
		renderN(b, root, 50)
	}
}

func renderN(b *testing.B, root string, n int) {
	objs, err := Render(b.Context(), root, "", Options{})
	if err != nil {
		b.Fatal(err)
	}
	if len(objs) != n {
		b.Fatalf("got %d objects, want %d", len(objs), n)
	}
}

// benchTree writes 50 objects in 10 files, and a kustomization listing them
// with the given extra fields unless those are empty.
func benchTree(b *testing.B, kustomization string) string {
	root := b.TempDir()
	var resources []string
	for i := range 10 {
		name := fmt.Sprintf("app-%02d.yaml", i)
		resources = append(resources, "  - "+name+"\n")
		writeFile(b, filepath.Join(root, name), benchObjects(fmt.Sprintf("app-%02d", i)))
	}
	if kustomization != "" {
		writeFile(b, filepath.Join(root, "kustomization.yaml"),
			"resources:\n"+strings.Join(resources, "")+kustomization)
	}
	return root
}

// benchObjects returns five objects of an application: a typical file.
func benchObjects(app string) string {
	return strings.ReplaceAll(`apiVersion: v1
kind: ServiceAccount
metadata:
  name: APP
  namespace: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: APP
  namespace: shop
data:
  LOG_LEVEL: info
  FEATURES: "a,b,c"
---
apiVersion: v1
kind: Service
metadata:
  name: APP
  namespace: shop
spec:
  selector:
    app: APP
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: APP
  namespace: shop
  labels:
    app: APP
spec:
  replicas: 2
  selector:
    matchLabels:
      app: APP
  template:
    metadata:
      labels:
        app: APP
    spec:
      serviceAccountName: APP
      containers:
        - name: APP
          image: registry.example.com/shop/APP:1.2.3
          ports:
            - containerPort: 8080
          envFrom:
            - configMapRef:
                name: APP
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {memory: 256Mi}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: APP
  namespace: shop
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app: APP
`, "APP", app)
}

// BenchmarkRenderHelm200 renders testdata/helm/bench, 200 objects from
// loops over helpers, as weir renders a chart in Git. hack/bench-helm.sh
// times `helm template` of the same chart.
func BenchmarkRenderHelm200(b *testing.B) {
	opts := Options{Type: TypeHelm, Helm: &Helm{ReleaseName: "bench", Namespace: "shop"}}
	b.ReportAllocs()
	for b.Loop() {
		objs, err := Render(b.Context(), "testdata/helm", "bench", opts)
		if err != nil {
			b.Fatal(err)
		}
		if len(objs) != 200 {
			b.Fatalf("got %d objects, want 200", len(objs))
		}
	}
}
