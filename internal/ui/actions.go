package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/steer"
)

// applicationAction syncs, suspends or resumes the Application, as the
// user: the API server's RBAC decides, and a refusal is shown with its
// reason and status (403).
func (s *Server) applicationAction(w http.ResponseWriter, r *http.Request, sess *session) {
	app, err := getApplication(r, sess)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var done string
	switch action := r.PathValue("action"); action {
	case "sync":
		err, done = steer.RequestSync(r.Context(), sess.c, app, steer.Token()), "Sync requested."
	case "suspend", "resume":
		err, done = steer.Suspend(r.Context(), sess.c, app, action == "suspend"), "Application "+action+"d."
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.sessions.setFlash(sess, done)
	http.Redirect(w, r, "/apps/"+app.Namespace+"/"+app.Name, http.StatusSeeOther)
}

// rolloutAction promotes, aborts, retries, pauses or resumes the Rollout
// as `weir rollout` does: on weir's cluster as the user, whose RBAC
// decides; on a remote cluster with the credentials of its kubeconfig
// Secret, read as the user, and only if the user may patch the
// Application that applied it (see mayPatchRollout), else 403.
func (s *Server) rolloutAction(w http.ResponseWriter, r *http.Request, sess *session) {
	action, ok := steer.FindRolloutAction(r.PathValue("action"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	at, err := s.rolloutOf(r, sess)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ro := at.ro
	if at.dest.Remote() {
		if may := mayPatchRollout(r.Context(), sess, at); !may.Allowed {
			s.fail(w, r, apierrors.NewForbidden(schema.GroupResource{Group: weirv1.GroupVersion.Group, Resource: "rollouts"}, ro.Name, errors.New(may.Why)))
			return
		}
	}
	if err := steer.Rollout(r.Context(), at.dest.c, ro, action, steer.Token()); err != nil {
		s.fail(w, r, err)
		return
	}
	s.sessions.setFlash(sess, fmt.Sprintf("%s of Rollout %s/%s requested.", strings.ToUpper(action.Verb[:1])+action.Verb[1:], ro.Namespace, ro.Name))
	http.Redirect(w, r, "/rollouts/"+ro.Namespace+"/"+ro.Name+at.query(), http.StatusSeeOther)
}

// rolloutAt is a Rollout, where it runs, and the Application named to
// find it there, if any.
type rolloutAt struct {
	ro   *weirv1.Rollout
	app  *weirv1.Application
	dest destination
}

// query is what the Rollout's links carry to name its Application.
func (at rolloutAt) query() string {
	if at.app == nil {
		return ""
	}
	return "?" + url.Values{"app": {at.app.Namespace + "/" + at.app.Name}}.Encode()
}

// rolloutOf reads the Rollout the path names (see rolloutAtKey), with the
// Application its query's app=namespace/name names, if any.
func (s *Server) rolloutOf(r *http.Request, sess *session) (rolloutAt, error) {
	key := client.ObjectKey{Namespace: r.PathValue("namespace"), Name: r.PathValue("name")}
	return s.rolloutAtKey(r.Context(), sess, key, r.URL.Query().Get("app"))
}

// rolloutAtKey reads the Rollout key where it runs: on weir's own
// cluster, as the user; or, when ref ("namespace/name") names the
// Application that applied it (one of its inventory), on that
// Application's destination (see destinationOf).
func (s *Server) rolloutAtKey(ctx context.Context, sess *session, key client.ObjectKey, ref string) (rolloutAt, error) {
	at := rolloutAt{dest: destination{cfg: sess.cfg, c: sess.c}}
	if ref != "" {
		ns, name, _ := strings.Cut(ref, "/")
		at.app = &weirv1.Application{}
		if err := sess.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, at.app); err != nil {
			return at, err
		}
		if !applied(at.app, key) {
			return at, &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusNotFound, Reason: metav1.StatusReasonNotFound,
				Message: fmt.Sprintf("Application %s/%s applied no Rollout %s", ns, name, key)}}
		}
		var err error
		if at.dest, err = s.destinationOf(ctx, sess, at.app); err != nil {
			return at, err
		}
	}
	at.ro = &weirv1.Rollout{}
	if err := at.dest.c.Get(ctx, key, at.ro); err != nil {
		return at, err
	}
	return at, nil
}

// applied says whether the Rollout key is in app's inventory.
func applied(app *weirv1.Application, key client.ObjectKey) bool {
	for _, ref := range app.Status.Inventory {
		if ref.Group == weirv1.GroupVersion.Group && ref.Kind == "Rollout" && ref.Namespace == key.Namespace && ref.Name == key.Name {
			return true
		}
	}
	return false
}
