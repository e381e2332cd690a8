package v1alpha1

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ApprovalAnnotationPrefix begins the annotation of a Pipeline that
// approves the change awaiting a stage: "approve.weir.dev/<stage>", whose
// value is "<change> by <user>". The ValidatingAdmissionPolicy weir keeps
// admits a new or changed value only when <user> is the user the API
// server knows the request by.
const ApprovalAnnotationPrefix = "approve.weir.dev/"

// ApprovalAnnotation is the annotation that approves a change for stage.
func ApprovalAnnotation(stage string) string { return ApprovalAnnotationPrefix + stage }

// ApprovalValue is the value of the annotation by which user approves
// change.
func ApprovalValue(change, user string) string { return change + " by " + user }

// ParseApproval splits an approval annotation's value into the change it
// approves and the user who approved it; ok is false for any other shape.
func ParseApproval(value string) (change, user string, ok bool) {
	change, user, ok = strings.Cut(value, " by ")
	if !ok || change == "" || strings.Contains(change, " ") || user == "" {
		return "", "", false
	}
	return change, user, true
}

// PipelineApproval is one change that awaited, or was given, the approval
// a stage asks for.
type PipelineApproval struct {
	// Stage the change awaits approval for.
	Stage string `json:"stage"`
	// Change is the change's approval id, which an approval names: it is
	// new each time a change starts waiting, so that an approval is good
	// for that change alone.
	Change string `json:"change"`
	// Images of the change, "repository:tag".
	// +optional
	Images []string `json:"images,omitempty"`
	// Values of the change, "FILE PATH=VALUE", as in a stage's status.
	// +optional
	Values []string `json:"values,omitempty"`
	// Phase: Awaiting, Approved, Committed (to Stage), Released (in Stage),
	// or Superseded (another change took its place before it was
	// committed).
	Phase string `json:"phase"`
	// Since is when the change started waiting.
	Since metav1.Time `json:"since"`
	// ApprovedBy is the user who approved it, as the API server knew the
	// request that set the approval annotation.
	// +optional
	ApprovedBy string `json:"approvedBy,omitempty"`
	// ApprovedAt is when weir saw the approval.
	// +optional
	ApprovedAt *metav1.Time `json:"approvedAt,omitempty"`
	// Commit is the commit that brought the change to Stage.
	// +optional
	Commit string `json:"commit,omitempty"`
}

// Phases of an approval.
const (
	ApprovalAwaiting   = "Awaiting"
	ApprovalApproved   = "Approved"
	ApprovalCommitted  = "Committed"
	ApprovalReleased   = "Released"
	ApprovalSuperseded = "Superseded"
)

// MaxPipelineApprovals bounds status.approvals.
const MaxPipelineApprovals = 20
