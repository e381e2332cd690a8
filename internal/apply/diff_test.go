package apply

import (
	"encoding/base64"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/weir/internal/testenv"
)

const diffBase = webDeployment + `---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData:
  password: old-hunter2
  user: admin
---` + webService

func TestDiffShowsChangesAndMasksSecrets(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	applyAll(t, ctx, m, ns, parse(t, ns, diffBase))
	next := parse(t, ns, strings.NewReplacer(
		"replicas: 1", "replicas: 3",
		"old-hunter2", "new-hunter3",
	).Replace(diffBase)+`---
apiVersion: v1
kind: ConfigMap
metadata: {name: fresh}
data: {mode: production}
`)
	if err := m.Normalize(ctx, next, ns); err != nil {
		t.Fatal(err)
	}

	diffs, err := m.Diff(ctx, next)
	if err != nil {
		t.Fatal(err)
	}

	if len(diffs) != 4 {
		t.Fatalf("%d diffs for 4 objects", len(diffs))
	}
	deploy, secret, service, fresh := diffs[0], diffs[1], diffs[2], diffs[3]
	assertDiff(t, deploy, Configured, "-  replicas: 1", "+  replicas: 3", "--- live apps/Deployment "+ns+"/web", "+++ applied apps/Deployment "+ns+"/web")
	assertDiff(t, secret, Configured, "-  password: '***'", "+  password: '*** (changed)'", "  user: '***'")
	assertDiff(t, service, Unchanged)
	assertDiff(t, fresh, Created, "@@ -0,0 +1,", "+kind: ConfigMap", "+  mode: production")
	if strings.Contains(deploy.Diff, "managedFields") || strings.Contains(deploy.Diff, "resourceVersion") || strings.Contains(deploy.Diff, "status:") {
		t.Errorf("diff shows server bookkeeping:\n%s", deploy.Diff)
	}
	for _, d := range diffs {
		for _, secretValue := range []string{"hunter", "admin", b64("old-hunter2"), b64("new-hunter3"), b64("admin")} {
			if strings.Contains(d.Diff, secretValue) {
				t.Errorf("diff of %s shows secret value %q:\n%s", d.Object.String(), secretValue, d.Diff)
			}
		}
	}
	if live := live(t, ctx, m, Ref(next[0])); mustInt(t, live, "spec", "replicas") != 1 {
		t.Error("Diff changed the live Deployment")
	}
}

func TestMaskSecretsComparesDecodedValues(t *testing.T) {
	live := map[string]any{"data": map[string]any{"same": b64("v"), "changed": b64("a"), "removed": b64("r")}}
	applied := map[string]any{
		"data":       map[string]any{"same": b64("v"), "changed": b64("b")},
		"stringData": map[string]any{"added": "x"},
		"metadata":   map[string]any{"annotations": map[string]any{lastAppliedAnnotation: `{"data":{"same":"dg=="}}`}},
	}
	maskSecrets(live, applied)
	want := map[string]string{"same": secretMask, "changed": changedSecretMask}
	for k, v := range want {
		if got := applied["data"].(map[string]any)[k]; got != v {
			t.Errorf("applied data %s = %v, want %v", k, got, v)
		}
	}
	if got := applied["stringData"].(map[string]any)["added"]; got != changedSecretMask {
		t.Errorf("added stringData = %v", got)
	}
	for k, v := range live["data"].(map[string]any) {
		if v != secretMask {
			t.Errorf("live data %s = %v", k, v)
		}
	}
	if got, _, _ := unstructured.NestedString(applied, "metadata", "annotations", lastAppliedAnnotation); got != secretMask {
		t.Errorf("last-applied annotation = %q", got)
	}
}

func assertDiff(t *testing.T, d ObjectDiff, action Action, contains ...string) {
	t.Helper()
	if d.Action != action {
		t.Errorf("%s: action %s, want %s\n%s", d.Object.String(), d.Action, action, d.Diff)
	}
	if action == Unchanged && d.Diff != "" {
		t.Errorf("%s: unchanged, but diff:\n%s", d.Object.String(), d.Diff)
	}
	for _, want := range contains {
		if !strings.Contains(d.Diff, want) {
			t.Errorf("diff of %s does not contain %q:\n%s", d.Object.String(), want, d.Diff)
		}
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func mustInt(t *testing.T, obj *unstructured.Unstructured, fields ...string) int64 {
	t.Helper()
	v, _, err := unstructured.NestedInt64(obj.Object, fields...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
