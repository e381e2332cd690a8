package ui

import (
	"net/http"
	"net/url"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/steer"
)

// rolloutBody is a Rollout's page.
type rolloutBody struct {
	Rollout     *weirv1.Rollout
	Application string // "namespace/name" of the Application that applied it
	Strategy    string
	Steps       []stepView
	Analyses    []analysisView
	Failed      []failedView
	Actions     []steer.RolloutAction
	May         permission
	// Dest is the cluster the Rollout runs on; AppRef ("namespace/name")
	// the Application its links name to find it there, if any.
	Dest   destination
	AppRef string
}

type stepView struct {
	Index   int32
	Action  string
	State   string
	Current bool
}

type analysisView struct {
	Name, Phase, Message string
	Step                 int32
	Metrics              []metricView
}

type metricView struct {
	Name, Phase                           string
	Successful, Failed, Inconclusive, Err int32
	Chart                                 sparkline
	Latest                                string
	Measurements                          []weirv1.Measurement
}

type failedView struct {
	weirv1.FailedRevision
	Revert    string // what became of the revert in Git
	RevertURL string // the revert commit on its forge, if known
}

func (s *Server) rolloutPage(w http.ResponseWriter, r *http.Request, sess *session) {
	at, err := s.rolloutOf(r, sess)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ro := at.ro
	body := buildRollout(ro, s.repositoryOf(r, sess, at))
	body.May = mayPatchRollout(r.Context(), sess, at)
	body.Dest = at.dest
	q := url.Values{"watch": {"rollout"}, "namespace": {ro.Namespace}, "name": {ro.Name}}
	if at.app != nil {
		body.AppRef = at.app.Namespace + "/" + at.app.Name
		q.Set("app", body.AppRef)
	}
	s.render(w, r, sess, "rollout", pageData{Title: "Rollout " + ro.Namespace + "/" + ro.Name, Events: "/events?" + q.Encode(), Body: body})
}

// repositoryOf is the Git URL of the Application that applied the
// Rollout, read as the user; "" when it cannot be read.
func (s *Server) repositoryOf(r *http.Request, sess *session, at rolloutAt) string {
	if at.app != nil {
		return at.app.Spec.Source.URL
	}
	ns, name, ok := strings.Cut(at.ro.Annotations[weirv1.ApplicationAnnotation], "/")
	if !ok {
		return ""
	}
	app := &weirv1.Application{}
	if err := sess.c.Get(r.Context(), client.ObjectKey{Namespace: ns, Name: name}, app); err != nil {
		return ""
	}
	return app.Spec.Source.URL
}

// buildRollout lays out ro's steps, analyses and failed revisions.
func buildRollout(ro *weirv1.Rollout, repo string) rolloutBody {
	st := &ro.Status
	b := rolloutBody{Rollout: ro, Application: ro.Annotations[weirv1.ApplicationAnnotation], Strategy: ro.Spec.Strategy.String(), Actions: steer.RolloutActions}
	if c := ro.Spec.Strategy.Canary; c != nil {
		for i, step := range c.Steps {
			idx := int32(i)
			b.Steps = append(b.Steps, stepView{Index: idx + 1, Action: step.String(), State: st.StepState(idx),
				Current: idx == st.CurrentStep && st.Phase != "" && st.Phase != weirv1.RolloutIdle})
		}
	}
	for _, run := range st.Analyses {
		a := analysisView{Name: run.Name, Phase: string(run.Phase), Message: run.Message, Step: run.Step}
		for _, m := range run.Metrics {
			a.Metrics = append(a.Metrics, metricView{
				Name: m.Name, Phase: string(m.Phase), Successful: m.Successful, Failed: m.Failed,
				Inconclusive: m.Inconclusive, Err: m.Error, Chart: newSparkline(m.Measurements),
				Latest: latest(m.Measurements), Measurements: m.Measurements,
			})
		}
		b.Analyses = append(b.Analyses, a)
	}
	for _, f := range st.FailedRevisions {
		b.Failed = append(b.Failed, failedView{FailedRevision: f, Revert: f.RevertSummary(), RevertURL: commitURL(repo, f.RevertCommit)})
	}
	return b
}

func latest(ms []weirv1.Measurement) string {
	if len(ms) == 0 {
		return ""
	}
	m := ms[len(ms)-1]
	if m.Value != "" {
		return m.Value
	}
	return strings.ToLower(string(m.Phase))
}
