package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PipelineSpec declares the stages a change goes through, in order, and
// the images and values that make a change.
//
// +kubebuilder:validation:XValidation:rule="(has(self.images) && size(self.images) > 0) || (has(self.values) && size(self.values) > 0)",message="set images, values or both"
type PipelineSpec struct {
	// Images are what moves from stage to stage: the tag a stage runs is
	// committed to the next stage's files, where they are marked for the
	// image's name (`# {"$imagepolicy": "NAMESPACE:NAME"}`, as an
	// ImageUpdate of that name writes them) or listed in a Kustomization's
	// images:.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Images []PipelineImage `json:"images,omitempty"`

	// Values are fields of the stages' files that move from stage to
	// stage too: their values in a stage's file, at the revision the stage
	// runs released, are committed to the same file of the next stage.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Values []PipelineValues `json:"values,omitempty"`

	// Stages in order; the first receives changes by other means (an
	// ImageUpdate, a person's commit), each next one from weir.
	// +kubebuilder:validation:MinItems=2
	// +kubebuilder:validation:MaxItems=10
	Stages []PipelineStage `json:"stages"`

	// Interval between checks of the stages; the default is 30 seconds,
	// held between a second and an hour.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]{1,5}(\.[0-9]{1,9})?(ns|us|µs|μs|ms|s|m|h)){1,6}$`
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`

	// Author of the promotion commits; the default is weir <weir@weir.dev>.
	// +optional
	Author *CommitAuthor `json:"author,omitempty"`
}

// PipelineImage is an image a Pipeline promotes.
type PipelineImage struct {
	// Name is the marker name of the image in the stages' files.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Repository of the image, "registry.example.com/team/web".
	// +kubebuilder:validation:MinLength=1
	Repository string `json:"repository"`
}

// PipelineValues are fields of one file of each stage.
type PipelineValues struct {
	// File holding the fields, relative to the path of each stage's first
	// Application: "values.yaml", "kustomization.yaml". It holds one YAML
	// document.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('/') && !self.contains('..')",message="a path within the stage's, without .."
	File string `json:"file"`
	// Paths of the fields, keys separated by dots, as kustomize's
	// replacements write them: "image.tag", "images.[name=web].newTag",
	// "args.0", "metadata.annotations.[example.com/owner]".
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=256
	Paths []string `json:"paths"`
}

// PipelineStage is a set of Applications that release a change together.
//
// +kubebuilder:validation:XValidation:rule="(has(self.applications) && size(self.applications) > 0) || has(self.selector)",message="set applications, selector or both"
// +kubebuilder:validation:XValidation:rule="!has(self.requireApproval) || !self.requireApproval || self.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="a stage that requires approval has a name of lowercase letters, digits and '-': it ends the name of its approval annotation"
type PipelineStage struct {
	// Name of the stage, "dev", "staging", "prod".
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// Applications of the stage by name, in the Pipeline's namespace. A
	// change is committed to the first Application's repository, branch
	// and path, with its credentials and signing key (the first named
	// here, or else the first selected in the order of names); they all
	// must be released before the change moves on.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Applications []LocalObjectReference `json:"applications,omitempty"`
	// Selector chooses Applications of the Pipeline's namespace by label,
	// besides those named in applications.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
	// PushBranch, when set, is a branch for review that the promotion
	// commits to this stage go to instead of the tracked one: weir
	// replaces it each time, and the stage receives the change when it is
	// merged.
	// +kubebuilder:validation:MaxLength=255
	// +optional
	PushBranch string `json:"pushBranch,omitempty"`
	// Soak is how long a change must have run released in this stage
	// before it moves on to the next.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]{1,5}(\.[0-9]{1,9})?(ns|us|µs|μs|ms|s|m|h)){1,6}$`
	// +optional
	Soak *metav1.Duration `json:"soak,omitempty"`
	// RequireApproval holds each change, before it is committed to this
	// stage, until a person approves it: `weir promote PIPELINE STAGE`, or
	// the annotation approve.weir.dev/<stage> naming the change.
	// +optional
	RequireApproval bool `json:"requireApproval,omitempty"`
}

// PipelineStatus says where each stage and each change stands.
type PipelineStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Stages, in the order of spec.stages.
	// +optional
	Stages []StageStatus `json:"stages,omitempty"`
	// Changes are the last changes seen, newest first, and where each
	// stands: at most 20.
	// +optional
	Changes []PipelineChange `json:"changes,omitempty"`
	// Approvals are the last changes that awaited approval for a stage,
	// newest first, with who approved each, when, and the commit that
	// followed: at most 20.
	// +optional
	Approvals []PipelineApproval `json:"approvals,omitempty"`
	// Conditions: Ready (the last check could read every stage).
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// StageStatus is what a stage runs.
type StageStatus struct {
	// Name of the stage.
	Name string `json:"name"`
	// Images the stage's Applications run, "repository:tag", in the
	// order of spec.images; empty when they do not all run the same.
	// +optional
	Images []string `json:"images,omitempty"`
	// Values the stage's files hold at the revision its first Application
	// applied, "FILE PATH=VALUE", in the order of spec.values; a value
	// longer than 64 bytes or not a scalar is shown as sha256:<digest>.
	// +optional
	Values []string `json:"values,omitempty"`
	// Phase: Released (every Application Ready and Healthy at one
	// revision, no Rollout under way), Progressing, or Failed (a Rollout
	// aborted).
	// +optional
	Phase string `json:"phase,omitempty"`
	// ReleasedAt is when the stage was first seen Released with Images.
	// +optional
	ReleasedAt *metav1.Time `json:"releasedAt,omitempty"`
}

// PipelineChange is one set of images and how far it went.
type PipelineChange struct {
	// Images of the change, "repository:tag".
	// +optional
	Images []string `json:"images,omitempty"`
	// Values of the change, "FILE PATH=VALUE", as in a stage's status.
	// +optional
	Values []string `json:"values,omitempty"`
	// Stage is the last stage the change reached.
	Stage string `json:"stage"`
	// Phase: Promoted (committed to Stage), Released (released in the
	// last stage), or Stopped (failed in Stage; it goes no further).
	Phase string `json:"phase"`
	// Commit is the commit that brought the change to Stage, when weir
	// pushed it.
	// +optional
	Commit string `json:"commit,omitempty"`
	// Message says why a change stopped.
	// +optional
	Message string `json:"message,omitempty"`
	// Time of the last change of Phase or Stage.
	Time metav1.Time `json:"time"`
}

// Phases of a stage and of a change.
const (
	StageReleased    = "Released"
	StageProgressing = "Progressing"
	StageFailed      = "Failed"
	ChangePromoted   = "Promoted"
	ChangeReleased   = "Released"
	ChangeStopped    = "Stopped"
)

// MaxPipelineChanges bounds status.changes.
const MaxPipelineChanges = 20

// Pipeline promotes changes through stages of Applications by commits:
// what runs released in one stage is committed to the next.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=pl,categories=weir
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Awaiting approval",type=string,JSONPath=`.status.approvals[?(@.phase=="Awaiting")].stage`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Pipeline struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   PipelineSpec   `json:"spec,omitempty"`
	Status PipelineStatus `json:"status,omitempty"`
}

// PipelineList is a list of Pipelines.
//
// +kubebuilder:object:root=true
type PipelineList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Pipeline `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Pipeline{}, &PipelineList{})
}

// PipelineIntervalBounds hold a Pipeline's spec.interval.
var PipelineIntervalBounds = DurationBounds{Min: time.Second, Max: time.Hour}

// DefaultPipelineInterval is the interval of a Pipeline that sets none.
const DefaultPipelineInterval = 30 * time.Second

// IntervalOrDefault is the interval between checks of the stages.
func (s PipelineSpec) IntervalOrDefault() time.Duration {
	return durationOr(s.Interval, DefaultPipelineInterval, PipelineIntervalBounds)
}

// SoakOrDefault is the stage's soak time, zero when unset, at most a day.
func (s PipelineStage) SoakOrDefault() time.Duration {
	return durationOr(s.Soak, 0, DelayBounds)
}
