package promotion

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// Event reasons of approvals.
const (
	// ReasonApprovalAwaited: a change waits for a person's approval
	// before it is committed to a stage.
	ReasonApprovalAwaited = "ApprovalAwaited"
	// ReasonApprovalGiven: a person approved the change awaiting a stage.
	ReasonApprovalGiven = "ApprovalGiven"
)

// Gate keeps in place what makes the user an approval names the user who
// gave it (the API server's admission policy).
type Gate interface {
	// Ensure returns nil once the gate is in force for p.
	Ensure(ctx context.Context, p *weirv1.Pipeline) error
}

// approved reports whether the change from runs may be committed to next,
// which requires approval. A change that starts waiting is recorded as
// Awaiting under a new id; it is approved when the Pipeline's annotation
// for next names that id, and stays approved until it is committed. An
// approval of any other change, earlier or later, does not count.
func (pr *Promoter) approved(ctx context.Context, p *weirv1.Pipeline, from, next *stage, now metav1.Time) (bool, error) {
	a := awaiting(p, next.Name, from)
	if a == nil {
		// The gate goes first: no id exists to approve before it is up.
		if err := pr.ensureGate(ctx, p); err != nil {
			return false, err
		}
		id := changeID()
		addApproval(p, weirv1.PipelineApproval{Stage: next.Name, Change: id, Images: from.Images, Values: from.Values, Phase: weirv1.ApprovalAwaiting, Since: now})
		pr.Recorder.Event(p, corev1.EventTypeNormal, ReasonApprovalAwaited,
			fmt.Sprintf("%s, released in stage %s, awaits approval for stage %s (change %s): weir promote %s %s",
				from.change(), from.Name, next.Name, id, p.Name, next.Name))
		return false, nil
	}
	if a.Phase != weirv1.ApprovalAwaiting {
		return true, nil
	}
	change, user, ok := weirv1.ParseApproval(p.Annotations[weirv1.ApprovalAnnotation(next.Name)])
	if !ok || change != a.Change {
		return false, nil
	}
	// The user is the API server's word only while the gate stands.
	if err := pr.ensureGate(ctx, p); err != nil {
		return false, err
	}
	a.Phase, a.ApprovedBy, a.ApprovedAt = weirv1.ApprovalApproved, user, &now
	pr.Recorder.Event(p, corev1.EventTypeNormal, ReasonApprovalGiven,
		fmt.Sprintf("%s approved %s for stage %s (change %s)", user, from.change(), next.Name, a.Change))
	return true, nil
}

func (pr *Promoter) ensureGate(ctx context.Context, p *weirv1.Pipeline) error {
	if pr.Approvals == nil {
		return fmt.Errorf("approvals cannot be trusted: weir keeps no admission policy for them")
	}
	if err := pr.Approvals.Ensure(ctx, p); err != nil {
		return fmt.Errorf("approvals cannot be trusted without their admission policy: %w", err)
	}
	return nil
}

// awaiting is the newest approval of stage when it is for the change s
// runs and not spent (Awaiting, Approved, or Committed and not yet
// released), or nil. An Awaiting or Approved one for another change is
// Superseded: the change it was for no longer waits.
func awaiting(p *weirv1.Pipeline, stage string, s *stage) *weirv1.PipelineApproval {
	a := newest(p, stage)
	if a == nil {
		return nil
	}
	switch {
	case (a.Phase == weirv1.ApprovalAwaiting || a.Phase == weirv1.ApprovalApproved) && !approves(a, s):
		a.Phase = weirv1.ApprovalSuperseded
	case a.Phase == weirv1.ApprovalAwaiting || a.Phase == weirv1.ApprovalApproved || a.Phase == weirv1.ApprovalCommitted:
		if approves(a, s) {
			return a
		}
	}
	return nil
}

// committed records that the approved change s runs reached stage by
// commit (empty when Git held it already).
func committed(p *weirv1.Pipeline, stage string, s *stage, commit string) {
	if a := newest(p, stage); a != nil && a.Phase == weirv1.ApprovalApproved && approves(a, s) {
		a.Phase, a.Commit = weirv1.ApprovalCommitted, commit
	}
}

// spend spends the approval of the change s runs released: the same
// images coming back later wait for a new one.
func spend(p *weirv1.Pipeline, s *stage) {
	if a := newest(p, s.Name); a != nil && a.Phase == weirv1.ApprovalCommitted &&
		s.Phase == weirv1.StageReleased && approves(a, s) {
		a.Phase = weirv1.ApprovalReleased
	}
}

// approves reports whether a is for the change s runs.
func approves(a *weirv1.PipelineApproval, s *stage) bool {
	return sameChange(a.Images, a.Values, s.Images, s.Values)
}

// newest is the newest approval of stage, or nil.
func newest(p *weirv1.Pipeline, stage string) *weirv1.PipelineApproval {
	for i := range p.Status.Approvals {
		if p.Status.Approvals[i].Stage == stage {
			return &p.Status.Approvals[i]
		}
	}
	return nil
}

// addApproval puts a first in p's approvals, dropping the oldest past the
// bound.
func addApproval(p *weirv1.Pipeline, a weirv1.PipelineApproval) {
	p.Status.Approvals = append([]weirv1.PipelineApproval{a}, p.Status.Approvals...)
	if len(p.Status.Approvals) > weirv1.MaxPipelineApprovals {
		p.Status.Approvals = p.Status.Approvals[:weirv1.MaxPipelineApprovals]
	}
}

// changeID is a new random approval id: no approval can name it before
// weir records it.
func changeID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}
