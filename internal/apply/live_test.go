package apply

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"weir.dev/weir/internal/testenv"
)

// TestLiveReadsEachObjectOfASet reads an applied object, one not yet
// created, and one of a kind the cluster does not serve yet.
func TestLiveReadsEachObjectOfASet(t *testing.T) {
	ns := testenv.Namespace(t)
	ctx := ctxFor(t)
	m := newManager(t)
	applyAll(t, ctx, m, ns, parse(t, ns, `apiVersion: v1
kind: ConfigMap
metadata: {name: applied, namespace: NS}
data: {mode: slow}
`))
	objs := parse(t, ns, `apiVersion: v1
kind: ConfigMap
metadata: {name: applied, namespace: NS}
data: {mode: fast}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: new, namespace: NS}
---
apiVersion: e2e.weir.dev/v1
kind: Widget
metadata: {name: w, namespace: NS}
`)
	live, err := m.Live(ctx, objs)
	if err != nil {
		t.Fatal(err)
	}
	configMaps := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	if live[0].Resource != configMaps || live[0].Live == nil || live[0].Live.Object["data"].(map[string]any)["mode"] != "slow" {
		t.Errorf("the applied ConfigMap reads as %v %v, want configmaps holding mode slow", live[0].Resource, live[0].Live)
	}
	if live[1].Resource != configMaps || live[1].Live != nil {
		t.Errorf("a ConfigMap not yet created reads as %v %v, want configmaps and nil", live[1].Resource, live[1].Live)
	}
	if want := (schema.GroupVersionResource{Group: "e2e.weir.dev", Version: "v1", Resource: "widgets"}); live[2].Resource != want || live[2].Live != nil {
		t.Errorf("a kind not served reads as %v %v, want the guess %v and nil", live[2].Resource, live[2].Live, want)
	}
}
