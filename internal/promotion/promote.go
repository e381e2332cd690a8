package promotion

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/gitwrite"
	"weir.dev/weir/internal/imageupdate"
)

// Event reasons of a Pipeline.
const (
	// ReasonPromotionCommitted: weir committed a change to a stage.
	ReasonPromotionCommitted = "PromotionCommitted"
	// ReasonPromotionStopped: a change failed in a stage and goes no
	// further.
	ReasonPromotionStopped = "PromotionStopped"
	// ReasonPromotionFailed: weir could not read a stage or commit to it.
	ReasonPromotionFailed = "PromotionFailed"
)

// Promoter checks a Pipeline's stages and commits released changes to
// the next stage.
type Promoter struct {
	// Reader reads Applications.
	Reader client.Reader
	// Workloads read the Deployments of each Application where it
	// applied them.
	Workloads Workloads
	// Git pushes the commits.
	Git imageupdate.Committer
	// Credentials of the Applications' repositories.
	Credentials imageupdate.CredentialReader
	// Source checks out the revisions the stages run, to read the
	// Pipelines' values from.
	Source Source
	// Recorder tells each commit and each stopped change in an Event.
	Recorder record.EventRecorder
	// Approvals keeps the admission policy that vouches for approvals;
	// without it, no stage that requires approval receives a change.
	Approvals Gate
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Workloads give a reader of what an Application applied: on the cluster
// it syncs to, weir's own or a remote one, as the identity it acts as
// there.
type Workloads interface {
	ReaderFor(ctx context.Context, app *weirv1.Application) (client.Reader, error)
}

// stage is what one check found of a stage.
type stage struct {
	spec  weirv1.PipelineStage
	apps  []weirv1.Application
	files []fileValues
	weirv1.StageStatus
}

// Check reads every stage into p.Status and commits each change that is
// released in a stage, soaked and not stopped, to the next stage.
func (pr *Promoter) Check(ctx context.Context, p *weirv1.Pipeline) error {
	now := metav1.NewTime(pr.now())
	stages := make([]stage, len(p.Spec.Stages))
	for i, spec := range p.Spec.Stages {
		s, err := pr.read(ctx, p, spec, now)
		if err != nil {
			return err
		}
		stages[i] = s
	}
	p.Status.Stages = make([]weirv1.StageStatus, len(stages))
	for i := range stages {
		p.Status.Stages[i] = stages[i].StageStatus
		spend(p, &stages[i])
	}
	var errs []error
	for i := 0; i+1 < len(stages); i++ {
		if err := pr.advance(ctx, p, &stages[i], &stages[i+1], now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// read finds what a stage runs and whether it is released.
func (pr *Promoter) read(ctx context.Context, p *weirv1.Pipeline, spec weirv1.PipelineStage, now metav1.Time) (stage, error) {
	s := stage{spec: spec, StageStatus: weirv1.StageStatus{Name: spec.Name}}
	apps, err := pr.applications(ctx, p, spec)
	if err != nil {
		return s, err
	}
	s.apps = apps
	var deployments []appsv1.Deployment
	for i := range apps {
		ds, err := pr.deployments(ctx, &apps[i])
		if err != nil {
			return s, fmt.Errorf("stage %s: %w", spec.Name, err)
		}
		deployments = append(deployments, ds...)
	}
	if s.files, err = pr.readValues(ctx, p, &apps[0]); err != nil {
		return s, fmt.Errorf("stage %s: %w", spec.Name, err)
	}
	s.Images, s.Values = runningImages(p.Spec.Images, deployments), shown(p, s.files)
	s.Phase = phase(s.apps)
	// A sync that started while the Deployments were read may have applied
	// what is not healthy yet: the stage is released at the next check.
	again, err := pr.applications(ctx, p, spec)
	if err != nil {
		return s, err
	}
	if !sameVersions(apps, again) {
		s.Phase = weirv1.StageProgressing
	}
	if s.Phase == weirv1.StageReleased {
		s.ReleasedAt = &now
		if prev := previous(p, spec.Name); prev != nil && prev.ReleasedAt != nil && sameChange(prev.Images, prev.Values, s.Images, s.Values) {
			s.ReleasedAt = prev.ReleasedAt
		}
	}
	return s, nil
}

// deployments reads the Deployments of app's inventory where app applied
// them.
func (pr *Promoter) deployments(ctx context.Context, app *weirv1.Application) ([]appsv1.Deployment, error) {
	var out []appsv1.Deployment
	var reader client.Reader
	for _, obj := range app.Status.Inventory {
		if obj.Group != "apps" || obj.Kind != "Deployment" {
			continue
		}
		if reader == nil {
			r, err := pr.Workloads.ReaderFor(ctx, app)
			if err != nil {
				return nil, fmt.Errorf("the cluster of Application %s: %w", app.Name, err)
			}
			reader = r
		}
		d := appsv1.Deployment{}
		if err := reader.Get(ctx, client.ObjectKey{Namespace: obj.Namespace, Name: obj.Name}, &d); err != nil {
			return nil, fmt.Errorf("Deployment %s/%s of Application %s: %w", obj.Namespace, obj.Name, app.Name, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// sameVersions reports whether a and b are the same Applications at the
// same resource versions.
func sameVersions(a, b []weirv1.Application) bool {
	return slices.EqualFunc(a, b, func(x, y weirv1.Application) bool {
		return x.Name == y.Name && x.ResourceVersion == y.ResourceVersion
	})
}

// previous is the stage's status of the last check, or nil.
func previous(p *weirv1.Pipeline, name string) *weirv1.StageStatus {
	for i := range p.Status.Stages {
		if p.Status.Stages[i].Name == name && p.Status.Stages[i].Phase == weirv1.StageReleased {
			return &p.Status.Stages[i]
		}
	}
	return nil
}

// advance stops the change promoted to next if it failed there, and
// otherwise commits what from runs to next when it is due.
func (pr *Promoter) advance(ctx context.Context, p *weirv1.Pipeline, from, next *stage, now metav1.Time) error {
	if c := latestAt(p, next.Name); c != nil && c.Phase == weirv1.ChangePromoted {
		if msg := failure(next.apps, c.Commit); msg != "" || next.Phase == weirv1.StageFailed {
			if msg == "" {
				msg = "a Rollout of stage " + next.Name + " aborted its release"
			}
			c.Phase, c.Message, c.Time = weirv1.ChangeStopped, msg, now
			pr.Recorder.Event(p, corev1.EventTypeWarning, ReasonPromotionStopped,
				fmt.Sprintf("%s stopped in stage %s, and goes no further: %s", strings.Join(append(slices.Clip(c.Images), c.Values...), ", "), next.Name, msg))
			return nil
		}
	}
	switch {
	case from.Phase != weirv1.StageReleased || !complete(p, from) || sameChange(from.Images, from.Values, next.Images, next.Values):
		return nil
	case now.Sub(from.ReleasedAt.Time) < from.spec.SoakOrDefault():
		return nil
	case stopped(p, from, next.Name):
		return nil
	}
	if next.spec.RequireApproval {
		if ok, err := pr.approved(ctx, p, from, next, now); !ok || err != nil {
			return err
		}
	}
	h, err := pr.commit(ctx, p, from, next)
	if errors.Is(err, gitwrite.ErrNothingToCommit) {
		committed(p, next.Name, from, "")
		return nil // committed before; the stage has not released it yet
	}
	if err != nil {
		pr.Recorder.Event(p, corev1.EventTypeWarning, ReasonPromotionFailed, err.Error())
		return err
	}
	addChange(p, weirv1.PipelineChange{Images: from.Images, Values: from.Values, Stage: next.Name, Phase: weirv1.ChangePromoted, Commit: h, Time: now})
	committed(p, next.Name, from, h)
	pr.Recorder.Event(p, corev1.EventTypeNormal, ReasonPromotionCommitted,
		fmt.Sprintf("Committed %s, released in stage %s, to stage %s as %s", from.change(), from.Name, next.Name, h))
	return nil
}

// commit writes from's images into the files of next's first Application.
func (pr *Promoter) commit(ctx context.Context, p *weirv1.Pipeline, from, next *stage) (string, error) {
	app := &next.apps[0]
	creds, err := pr.Credentials.Credentials(ctx, app)
	if err != nil {
		return "", err
	}
	signer, err := imageupdate.Signer(ctx, pr.Credentials, app)
	if err != nil {
		return "", err
	}
	editor, err := editorFor(p, from, app)
	if err != nil {
		return "", err
	}
	req := gitwrite.CommitRequest{
		URL: app.Spec.Source.URL, Branch: app.Spec.Source.Ref.BranchOrDefault(), PushBranch: next.spec.PushBranch, Path: app.Spec.Source.Path,
		Credentials: creds, Signer: signer, Editor: editor,
		Message: fmt.Sprintf("Promote %s to %s\n\nweir's Pipeline %s/%s: released in stage %s.\n",
			from.change(), next.Name, p.Namespace, p.Name, from.Name),
	}
	if a := p.Spec.Author; a != nil {
		req.Author = gitwrite.Signature{Name: a.Name, Email: a.Email}
	}
	return pr.Git.Commit(ctx, req)
}

// latestAt is the newest change recorded at stage, or nil.
func latestAt(p *weirv1.Pipeline, stage string) *weirv1.PipelineChange {
	for i := range p.Status.Changes {
		if p.Status.Changes[i].Stage == stage {
			return &p.Status.Changes[i]
		}
	}
	return nil
}

// stopped reports whether the change s runs was stopped at stage.
func stopped(p *weirv1.Pipeline, s *stage, at string) bool {
	for _, c := range p.Status.Changes {
		if c.Stage == at && c.Phase == weirv1.ChangeStopped && sameChange(c.Images, c.Values, s.Images, s.Values) {
			return true
		}
	}
	return false
}

// addChange puts c first in p's changes, dropping the oldest past the bound.
func addChange(p *weirv1.Pipeline, c weirv1.PipelineChange) {
	p.Status.Changes = append([]weirv1.PipelineChange{c}, p.Status.Changes...)
	if len(p.Status.Changes) > weirv1.MaxPipelineChanges {
		p.Status.Changes = p.Status.Changes[:weirv1.MaxPipelineChanges]
	}
}

func (pr *Promoter) now() time.Time {
	if pr.Now == nil {
		return time.Now()
	}
	return pr.Now()
}
