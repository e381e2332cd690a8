package apply

import (
	"strings"
	"testing"

	"weir.dev/weir/internal/testenv"
)

func TestNormalizeSetsAndClearsNamespacesByScope(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	objs := parse(t, ns, `
apiVersion: v1
kind: ConfigMap
metadata: {name: defaulted}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: explicit, namespace: elsewhere}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: NS-reader, namespace: should-go}
---
apiVersion: NS.example.com/v1
kind: Widget
metadata: {name: from-crd-in-set}
---
`+widgetCRD)

	if err := m.Normalize(ctx, objs, ns); err != nil {
		t.Fatal(err)
	}

	want := []string{ns, "elsewhere", "", ns, ""}
	for i, obj := range objs {
		if obj.GetNamespace() != want[i] {
			t.Errorf("%s: namespace %q, want %q", Ref(obj).String(), obj.GetNamespace(), want[i])
		}
	}
}

func TestNormalizeNamesObjectsItCannotPlace(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	objs := parse(t, ns, `
apiVersion: v1
kind: ConfigMap
metadata: {name: homeless}
---
apiVersion: v1
kind: ConfigMap
metadata: {namespace: NS}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: fine, namespace: NS}
`)

	err := m.Normalize(ctx, objs, "") // no default namespace

	for _, want := range []string{
		"normalize: 2 of 3 objects failed",
		"ConfigMap homeless: namespaced object has no namespace and no default namespace is set",
		"ConfigMap " + ns + "/: object has no metadata.name",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Normalize = %v, want it to contain %q", err, want)
		}
	}
}
