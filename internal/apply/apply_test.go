package apply

import (
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/weir/internal/testenv"
)

// webDeployment and webService are the app most tests apply.
const (
	webDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.example/web:1
`
	webService = `
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
`
)

const webSet = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: production
---` + webService + "---" + webDeployment

func TestApplyCreatesThenLeavesUnchangedThenConfigures(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)

	created := applyAll(t, ctx, m, ns, parse(t, ns, webSet))
	assertActions(t, created, map[string]Action{"ConfigMap/settings": Created, "Service/web": Created, "Deployment/web": Created})
	if created.Summary() != "3 created" {
		t.Errorf("Summary() = %q", created.Summary())
	}

	again := applyAll(t, ctx, m, ns, parse(t, ns, webSet))
	assertActions(t, again, map[string]Action{"ConfigMap/settings": Unchanged, "Service/web": Unchanged, "Deployment/web": Unchanged})
	if again.Changed() {
		t.Errorf("re-apply changed something: %v", again)
	}

	changed := parse(t, ns, webSet)
	changed[0].Object["data"] = map[string]any{"mode": "debug"}
	configured := applyAll(t, ctx, m, ns, changed)
	if got := configured.Summary(); got != "1 configured, 2 unchanged" {
		t.Errorf("Summary() after changing the ConfigMap = %q", got)
	}
	if mode := live(t, ctx, m, Ref(changed[0])).Object["data"].(map[string]any)["mode"]; mode != "debug" {
		t.Errorf("live ConfigMap mode = %v, want debug", mode)
	}
}

func TestApplyTakesOverFieldsOfOtherManagers(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	objs := parse(t, ns, webSet)[:1]
	other, err := NewManager(testenv.Config(t), Options{FieldManager: "kubectl"})
	if err != nil {
		t.Fatal(err)
	}
	edited := parse(t, ns, webSet)[:1]
	edited[0].Object["data"] = map[string]any{"mode": "edited-by-hand"}
	applyAll(t, ctx, other, ns, edited)

	changes := applyAll(t, ctx, m, ns, objs)
	assertActions(t, changes, map[string]Action{"ConfigMap/settings": Configured})
	if mode := live(t, ctx, m, Ref(objs[0])).Object["data"].(map[string]any)["mode"]; mode != "production" {
		t.Errorf("mode = %v after weir's apply, want production", mode)
	}
}

func TestAnUnchangedObjectIsNotAppliedAndNoObjectIsReadTwice(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	cfg := testenv.Config(t)
	requests := logRequests(cfg, ns)
	m, err := NewManager(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	set := func(a, b string) []*unstructured.Unstructured {
		return parse(t, ns, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {v: '"+a+"'}\n---\n"+
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {v: '"+b+"'}\n")
	}
	assertActions(t, applyAll(t, ctx, m, ns, set("1", "1")), map[string]Action{"ConfigMap/a": Created, "ConfigMap/b": Created})
	if sent, want := requests.take(), []string{"PATCH a", "PATCH b", "dry-run PATCH a", "dry-run PATCH b"}; !slices.Equal(sent, want) {
		t.Errorf("creating sent %v, want %v: a dry run and an apply of each, and no read of an object the dry run shows is new", sent, want)
	}

	assertActions(t, applyAll(t, ctx, m, ns, set("1", "2")), map[string]Action{"ConfigMap/a": Unchanged, "ConfigMap/b": Configured})
	if sent, want := requests.take(), []string{"GET configmaps", "PATCH b", "dry-run PATCH a", "dry-run PATCH b"}; !slices.Equal(sent, want) {
		t.Errorf("changing b sent %v, want %v: a dry run of each, one list of the ConfigMaps weir manages, and an apply of b alone", sent, want)
	}
}
