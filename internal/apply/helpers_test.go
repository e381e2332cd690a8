package apply

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// parse reads a multi-document YAML set, with "NS" replaced by ns.
func parse(t testing.TB, ns, docs string) []*unstructured.Unstructured {
	t.Helper()
	docs = strings.ReplaceAll(docs, "NS", ns)
	decoder := yaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(docs)), 4096)
	var objs []*unstructured.Unstructured
	for {
		obj := &unstructured.Unstructured{}
		err := decoder.Decode(obj)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("parse test objects: %v", err)
		}
		if len(obj.Object) > 0 {
			objs = append(objs, obj)
		}
	}
}

func newManager(t testing.TB) *Manager {
	t.Helper()
	m, err := NewManager(testenv.Config(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// applyAll normalizes, validates and applies a set stage by stage.
func applyAll(t testing.TB, ctx context.Context, m *Manager, ns string, objs []*unstructured.Unstructured) ChangeSet {
	t.Helper()
	if err := m.Normalize(ctx, objs, ns); err != nil {
		t.Fatal(err)
	}
	dryRuns, err := m.Validate(ctx, objs)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := NewPlan(objs)
	if err != nil {
		t.Fatal(err)
	}
	var all ChangeSet
	for _, stage := range plan.Stages {
		changes, err := m.Apply(ctx, stage, dryRuns)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, changes...)
	}
	return all
}

// live returns the object ref names, or nil when it does not exist.
func live(t testing.TB, ctx context.Context, m *Manager, ref v1alpha1.ObjectRef) *unstructured.Unstructured {
	t.Helper()
	res, err := m.resource(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := res.Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func refs(objs []*unstructured.Unstructured) []v1alpha1.ObjectRef {
	out := make([]v1alpha1.ObjectRef, len(objs))
	for i, obj := range objs {
		out[i] = Ref(obj)
	}
	return out
}

// actions maps "Kind/name" of each object to what happened to it.
func actions(cs ChangeSet) map[string]Action {
	out := map[string]Action{}
	for _, c := range cs {
		out[c.Object.Kind+"/"+c.Object.Name] = c.Action
	}
	return out
}

func assertActions(t testing.TB, cs ChangeSet, want map[string]Action) {
	t.Helper()
	got := actions(cs)
	for name, action := range want {
		if got[name] != action {
			t.Errorf("%s: %s, want %s (change set: %v)", name, got[name], action, cs)
		}
	}
	if len(got) != len(want) {
		t.Errorf("change set names %d objects, want %d: %v", len(got), len(want), cs)
	}
}

func ctxFor(t testing.TB) context.Context { return testenv.Context(t, 2*time.Minute) }

// countRequests has every request cfg's clients send passed to seen first.
func countRequests(cfg *rest.Config, seen func(*http.Request)) {
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			seen(req)
			return rt.RoundTrip(req)
		})
	})
}

// requestLog records the requests a client of a config sends for objects
// of one namespace, each as "METHOD name" ("dry-run METHOD name" for a dry
// run), discovery left out.
type requestLog struct {
	mu   sync.Mutex
	sent []string
}

// logRequests makes cfg's clients record in the log they return what they
// send for objects of namespace ns.
func logRequests(cfg *rest.Config, ns string) *requestLog {
	l := &requestLog{}
	countRequests(cfg, func(req *http.Request) {
		if !strings.Contains(req.URL.Path, "/namespaces/"+ns+"/") {
			return // discovery
		}
		what := req.Method + " " + path.Base(req.URL.Path)
		if req.URL.Query().Get("dryRun") != "" {
			what = "dry-run " + what
		}
		l.mu.Lock()
		l.sent = append(l.sent, what)
		l.mu.Unlock()
	})
	return l
}

// take returns what was sent since the last take, sorted, and forgets it.
func (l *requestLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	sent := l.sent
	l.sent = nil
	slices.Sort(sent)
	return sent
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
