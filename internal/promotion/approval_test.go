package promotion

import (
	"context"
	"errors"
	"strings"
	"testing"

	"k8s.io/client-go/tools/record"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// gate is a Gate that is in place unless err is set.
type gate struct{ err error }

func (g gate) Ensure(context.Context, *weirv1.Pipeline) error { return g.err }

// approvalPipeline is pipeline(0) whose staging requires approval.
func approvalPipeline() *weirv1.Pipeline {
	p := pipeline(0)
	p.Spec.Stages[1].RequireApproval = true
	return p
}

// checkWith checks p once with dev running devTag and staging stagingTag,
// and returns the commits asked for and the Events' reasons.
func checkWith(t *testing.T, p *weirv1.Pipeline, devTag, stagingTag string, g Gate) ([]string, []string, error) {
	t.Helper()
	pr, c, rec := promoter(t, objects(stageObjects("dev", devTag), stageObjects("staging", stagingTag), stageObjects("prod", "1.0.0"))...)
	pr.Approvals = g
	err := pr.Check(context.Background(), p)
	var paths []string
	for _, req := range c.reqs {
		paths = append(paths, req.Path)
	}
	return paths, reasons(rec), err
}

func reasons(rec *record.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-rec.Events:
			out = append(out, strings.Fields(e)[1])
		default:
			return out
		}
	}
}

func approve(p *weirv1.Pipeline, stage, change, user string) {
	p.Annotations = map[string]string{weirv1.ApprovalAnnotation(stage): weirv1.ApprovalValue(change, user)}
}

// A change released in dev waits for staging's approval, recorded as
// Awaiting under an id; the approval of that id is recorded with who gave
// it, and the change is committed.
func TestAStageThatRequiresApprovalWaitsForIt(t *testing.T) {
	p := approvalPipeline()
	commits, events, err := checkWith(t, p, "1.1.0", "1.0.0", gate{})
	if err != nil || len(commits) != 0 || !equal(events, ReasonApprovalAwaited) {
		t.Fatalf("before approval: commits %v, events %v, %v", commits, events, err)
	}
	a := p.Status.Approvals[0]
	if a.Stage != "staging" || a.Phase != weirv1.ApprovalAwaiting || len(a.Change) != 12 || a.Images[0] != repo+":1.1.0" {
		t.Fatalf("approval %+v, want 1.1.0 awaiting staging's", a)
	}
	if commits, events, _ = checkWith(t, p, "1.1.0", "1.0.0", gate{}); len(commits) != 0 || len(events) != 0 || len(p.Status.Approvals) != 1 {
		t.Fatalf("still waiting: commits %v, events %v, approvals %+v", commits, events, p.Status.Approvals)
	}

	approve(p, "staging", a.Change, "alice@example.com")
	commits, events, err = checkWith(t, p, "1.1.0", "1.0.0", gate{})
	if err != nil || !equal(commits, "staging") || !equal(events, ReasonApprovalGiven, ReasonPromotionCommitted) {
		t.Fatalf("approved: commits %v, events %v, %v", commits, events, err)
	}
	a = p.Status.Approvals[0]
	if a.Phase != weirv1.ApprovalCommitted || a.ApprovedBy != "alice@example.com" || a.ApprovedAt == nil || a.Commit != strings.Repeat("c", 40) {
		t.Errorf("approval %+v, want committed, approved by alice", a)
	}
}

// An approval is good for the change it names alone: one given for a
// change that no longer waits, or for no change at all, lets nothing
// through, and one spent on a change does not let the same images through
// again later.
func TestAnApprovalIsForOneChangeOnly(t *testing.T) {
	p := approvalPipeline()
	if _, _, err := checkWith(t, p, "1.1.0", "1.0.0", gate{}); err != nil {
		t.Fatal(err)
	}
	first := p.Status.Approvals[0].Change

	approve(p, "staging", first, "alice")
	commits, events, _ := checkWith(t, p, "1.2.0", "1.0.0", gate{})
	if len(commits) != 0 || !equal(events, ReasonApprovalAwaited) {
		t.Fatalf("1.2.0 with 1.1.0's approval: commits %v, events %v", commits, events)
	}
	second := p.Status.Approvals[0]
	if second.Change == first || second.Phase != weirv1.ApprovalAwaiting || p.Status.Approvals[1].Phase != weirv1.ApprovalSuperseded {
		t.Fatalf("approvals %+v, want 1.2.0 awaiting under a new id and 1.1.0 superseded", p.Status.Approvals)
	}
	approve(p, "staging", "0123456789ab", "alice")
	if commits, _, _ = checkWith(t, p, "1.2.0", "1.0.0", gate{}); len(commits) != 0 {
		t.Fatalf("committed %v on an approval of no change", commits)
	}

	approve(p, "staging", second.Change, "bob")
	if commits, _, _ = checkWith(t, p, "1.2.0", "1.0.0", gate{}); !equal(commits, "staging") {
		t.Fatalf("commits %v, want staging", commits)
	}
	// Staging releases 1.2.0 (which moves on to prod, which requires no
	// approval), then goes back to 1.0.0 by other means.
	if commits, _, _ = checkWith(t, p, "1.2.0", "1.2.0", gate{}); !equal(commits, "prod") || p.Status.Approvals[0].Phase != weirv1.ApprovalReleased {
		t.Fatalf("released: commits %v, approvals %+v", commits, p.Status.Approvals)
	}
	commits, events, _ = checkWith(t, p, "1.2.0", "1.0.0", gate{})
	if len(commits) != 0 || !equal(events, ReasonApprovalAwaited) || p.Status.Approvals[0].Change == second.Change {
		t.Errorf("1.2.0 again: commits %v, events %v, approvals %+v; want a new approval awaited", commits, events, p.Status.Approvals)
	}
}

// Without the admission policy that vouches for approvals, a stage that
// requires one receives nothing, and the Pipeline says why.
func TestNoApprovalWithoutTheGate(t *testing.T) {
	for name, g := range map[string]Gate{"none": nil, "failing": gate{err: errors.New("validatingadmissionpolicies is forbidden")}} {
		p := approvalPipeline()
		p.Status.Approvals = []weirv1.PipelineApproval{{Stage: "staging", Change: "0123456789ab", Images: []string{repo + ":1.1.0"}, Phase: weirv1.ApprovalAwaiting}}
		approve(p, "staging", "0123456789ab", "mallory")
		commits, _, err := checkWith(t, p, "1.1.0", "1.0.0", g)
		if len(commits) != 0 || err == nil || !strings.Contains(err.Error(), "admission policy") || p.Status.Approvals[0].ApprovedBy != "" {
			t.Errorf("%s: commits %v, error %v, approvals %+v; want nothing approved, and why", name, commits, err, p.Status.Approvals)
		}
	}
}

func equal(got []string, want ...string) bool {
	return strings.Join(got, ",") == strings.Join(want, ",")
}
