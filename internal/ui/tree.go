package ui

import (
	"context"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/health"
)

// maxTreeObjects bounds the inventory objects the tree reads.
const maxTreeObjects = 500

// node is one object of the resource tree with its kstatus, and the
// objects beneath it: a Deployment's ReplicaSets, a ReplicaSet's Pods.
type node struct {
	Kind, Namespace, Name string
	Status                string
	Message               string
	Children              []node
}

// resourceTree reads the Application's inventory on its destination, with
// each object's kstatus, and below each Deployment its ReplicaSets and
// Pods. An object that may not be read is shown with the API server's
// reason.
func resourceTree(ctx context.Context, dest destination, app *weirv1.Application) ([]node, bool, error) {
	refs := app.Status.Inventory
	truncated := len(refs) > maxTreeObjects
	if truncated {
		refs = refs[:maxTreeObjects]
	}
	dc, err := dynamic.NewForConfig(dest.cfg)
	if err != nil {
		return nil, false, err
	}
	checker := health.NewChecker(dc, dest.c.RESTMapper())
	tree := make([]node, 0, len(refs))
	below := map[string]*workloads{} // by namespace, read once
	for _, ref := range refs {
		n := node{Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name}
		report, err := checker.Check(ctx, []weirv1.ObjectRef{ref})
		switch {
		case err != nil:
			n.Status, n.Message = string(health.Unknown), "cannot read it: "+reasonOf(err)
		default:
			n.Status, n.Message = string(report.Objects[0].Status), report.Objects[0].Message
		}
		if ref.Group == appsv1.GroupName && ref.Kind == "Deployment" && err == nil {
			w := below[ref.Namespace]
			if w == nil {
				w = readWorkloads(ctx, dest.c, ref.Namespace)
				below[ref.Namespace] = w
			}
			n.Children = w.under(ref.Name)
		}
		tree = append(tree, n)
	}
	return tree, truncated, nil
}

// workloads are a namespace's Deployments, ReplicaSets and Pods, as read
// once for the tree; err says why they could not be.
type workloads struct {
	deployments appsv1.DeploymentList
	replicaSets appsv1.ReplicaSetList
	pods        corev1.PodList
	err         error
}

func readWorkloads(ctx context.Context, c client.Client, namespace string) *workloads {
	w := &workloads{}
	for _, list := range []client.ObjectList{&w.deployments, &w.replicaSets, &w.pods} {
		if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
			w.err = err
			return w
		}
	}
	return w
}

// under returns the ReplicaSets the Deployment owns, newest first, each
// with the Pods it owns.
func (w *workloads) under(deployment string) []node {
	if w.err != nil {
		return []node{{Kind: "Pods", Status: string(health.Unknown), Message: "cannot read them: " + reasonOf(w.err)}}
	}
	var uid types.UID
	for _, d := range w.deployments.Items {
		if d.Name == deployment {
			uid = d.UID
		}
	}
	var sets []appsv1.ReplicaSet
	for _, rs := range w.replicaSets.Items {
		if ownedBy(rs.OwnerReferences, uid) {
			sets = append(sets, rs)
		}
	}
	sort.Slice(sets, func(i, j int) bool { return sets[j].CreationTimestamp.Before(&sets[i].CreationTimestamp) })
	out := make([]node, 0, len(sets))
	for i := range sets {
		rs := &sets[i]
		n := statusNode("apps/v1", "ReplicaSet", rs)
		for j := range w.pods.Items {
			if pod := &w.pods.Items[j]; ownedBy(pod.OwnerReferences, rs.UID) {
				n.Children = append(n.Children, statusNode("v1", "Pod", pod))
			}
		}
		out = append(out, n)
	}
	return out
}

func ownedBy(owners []metav1.OwnerReference, uid types.UID) bool {
	for _, o := range owners {
		if o.UID == uid && uid != "" {
			return true
		}
	}
	return false
}

// statusNode computes obj's kstatus as health does for the inventory.
func statusNode(apiVersion, kind string, obj client.Object) node {
	n := node{Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		n.Status, n.Message = string(health.Unknown), err.Error()
		return n
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	s := health.Compute(u)
	n.Status, n.Message = string(s.Status), s.Message
	return n
}
