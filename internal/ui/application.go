package ui

import (
	"net/http"
	"net/url"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// applicationBody is an Application's page.
type applicationBody struct {
	App        *weirv1.Application
	Row        appRow
	Source     string
	RepoCommit string // a link to the applied commit on its forge, if known
	Tree       []node
	Truncated  bool
	Conditions []metav1.Condition
	May        permission
	// Dest is the cluster the tree was read on; Unreachable says why
	// nothing of a remote one is shown.
	Dest        destination
	Unreachable string
}

func (s *Server) applicationPage(w http.ResponseWriter, r *http.Request, sess *session) {
	app, err := getApplication(r, sess)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body := applicationBody{
		App: app, Row: rowOf(app),
		Source:     app.Spec.Source.URL,
		RepoCommit: commitURL(app.Spec.Source.URL, app.Status.LastAppliedRevision),
		Conditions: app.Status.Conditions,
		May:        mayPatch(r.Context(), sess, "applications", app.Namespace, app.Name),
	}
	body.Dest, err = s.destinationOf(r.Context(), sess, app)
	if err != nil {
		body.Unreachable = reasonOf(err)
	} else if body.Tree, body.Truncated, err = resourceTree(r.Context(), body.Dest, app); err != nil {
		s.fail(w, r, err)
		return
	}
	events := "/events?" + url.Values{"watch": {"application"}, "namespace": {app.Namespace}, "name": {app.Name}}.Encode()
	s.render(w, r, sess, "application", pageData{Title: app.Namespace + "/" + app.Name, Events: events, Body: body})
}

// getApplication reads the Application the path names, as the user.
func getApplication(r *http.Request, sess *session) (*weirv1.Application, error) {
	app := &weirv1.Application{}
	key := client.ObjectKey{Namespace: r.PathValue("namespace"), Name: r.PathValue("name")}
	if err := sess.c.Get(r.Context(), key, app); err != nil {
		return nil, err
	}
	return app, nil
}

// treeNamespaces are the namespaces of the Application's Deployments,
// whose ReplicaSets and Pods its page shows.
func treeNamespaces(app *weirv1.Application) []string {
	var out []string
	for _, ref := range app.Status.Inventory {
		if ref.Kind == "Deployment" && ref.Group == "apps" && !slices.Contains(out, ref.Namespace) {
			out = append(out, ref.Namespace)
		}
	}
	return out
}
