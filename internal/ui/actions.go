package ui

import (
	"fmt"
	"net/http"
	"strings"

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
// as `weir rollout` does, as the user.
func (s *Server) rolloutAction(w http.ResponseWriter, r *http.Request, sess *session) {
	action, ok := steer.FindRolloutAction(r.PathValue("action"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	ro, err := getRollout(r, sess)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := steer.Rollout(r.Context(), sess.c, ro, action, steer.Token()); err != nil {
		s.fail(w, r, err)
		return
	}
	s.sessions.setFlash(sess, fmt.Sprintf("%s of Rollout %s/%s requested.", strings.ToUpper(action.Verb[:1])+action.Verb[1:], ro.Namespace, ro.Name))
	http.Redirect(w, r, "/rollouts/"+ro.Namespace+"/"+ro.Name, http.StatusSeeOther)
}

// getRollout reads the Rollout the path names, as the user.
func getRollout(r *http.Request, sess *session) (*weirv1.Rollout, error) {
	ro := &weirv1.Rollout{}
	key := client.ObjectKey{Namespace: r.PathValue("namespace"), Name: r.PathValue("name")}
	if err := sess.c.Get(r.Context(), key, ro); err != nil {
		return nil, err
	}
	return ro, nil
}
