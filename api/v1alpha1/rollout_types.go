package v1alpha1

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels and annotations of delivery.
const (
	// RoleLabel marks the pods and Services weir adds for a Rollout:
	// "canary", "preview" or "stable".
	RoleLabel = "weir.dev/role"
	// RolloutLabel on objects weir creates for a Rollout names the Rollout.
	RolloutLabel = "weir.dev/rollout"
	// ApplicationAnnotation on a Rollout names the Application that
	// applied it, as "namespace/name".
	ApplicationAnnotation = "weir.dev/application"
	// TemplateHashAnnotation on a canary or preview Deployment is the hash
	// of the pod template it releases.
	TemplateHashAnnotation = "weir.dev/template-hash"
	// RevisionAnnotation on a canary or preview Deployment is the Git
	// revision that brought its template.
	RevisionAnnotation = "weir.dev/revision"
	// PreviousRevisionAnnotation on a canary or preview Deployment is the
	// revision the Application had applied before: what a revert goes
	// back to.
	PreviousRevisionAnnotation = "weir.dev/previous-revision"
	// RolloutFinalizer holds a deleted Rollout until weir has put all
	// traffic back on the stable Deployment and kept the Services a router
	// object may name.
	RolloutFinalizer = "weir.dev/traffic"
)

// Annotations on a Rollout that ask for an action by hand (`weir rollout
// promote|abort|retry|pause|resume`). The value is an opaque token (the
// CLI writes the time); each new value is acted on once, and one made while
// no release runs is dropped.
const (
	// PromoteAnnotation ends the current step (a pause, an analysis that
	// runs or was inconclusive) and goes on to the next; for blue/green it
	// skips the pre-promotion analysis and switches to the preview.
	PromoteAnnotation = "weir.dev/promote"
	// AbortAnnotation aborts the rollout: all traffic back to stable.
	AbortAnnotation = "weir.dev/abort"
	// RetryAnnotation releases an aborted revision again.
	RetryAnnotation = "weir.dev/retry"
	// PauseAnnotation pauses the rollout at its current step.
	PauseAnnotation = "weir.dev/pause"
	// ResumeAnnotation lifts a pause made with PauseAnnotation.
	ResumeAnnotation = "weir.dev/resume"
)

// RolloutSpec declares how changes to one Deployment's pod template are
// released: the strategy, the analysis that judges them, and what to do
// when they fail.
type RolloutSpec struct {
	// TargetRef names the Deployment, in the Rollout's namespace, whose pod
	// template changes are released progressively. The Deployment stays the
	// stable workload.
	TargetRef LocalObjectReference `json:"targetRef"`

	// Strategy is canary or blue/green.
	Strategy RolloutStrategy `json:"strategy"`

	// Analysis runs in the background from the first step until promotion;
	// a failure aborts the rollout at whatever step it is.
	// +optional
	Analysis *AnalysisStep `json:"analysis,omitempty"`

	// OnFailure says what happens after an abort beyond the default (all
	// traffic back to stable, the canary scaled to zero, the revision marked
	// failed and its pod template never released again until Git brings
	// another template or `weir rollout retry` asks).
	// +optional
	OnFailure FailurePolicy `json:"onFailure,omitempty"`

	// ProgressDeadline bounds how long the canary or preview may take to
	// become available at each step before the rollout aborts; the default
	// is ten minutes, and it is held between one second and an hour.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]{1,5}(\.[0-9]{1,9})?(ns|us|µs|μs|ms|s|m|h)){1,6}$`
	ProgressDeadline *metav1.Duration `json:"progressDeadline,omitempty"`
}

// RolloutStrategy holds exactly one strategy.
// +kubebuilder:validation:MinProperties=1
// +kubebuilder:validation:MaxProperties=1
type RolloutStrategy struct {
	// Canary moves traffic to the new template step by step.
	// +optional
	Canary *CanaryStrategy `json:"canary,omitempty"`
	// BlueGreen runs a full-size preview and switches all traffic at once.
	// +optional
	BlueGreen *BlueGreenStrategy `json:"blueGreen,omitempty"`
}

// CanaryStrategy shifts traffic to a canary copy of the Deployment.
type CanaryStrategy struct {
	// Service is the Service in front of the Deployment. With a traffic
	// router, weir adds "<service>-stable" and "<service>-canary" beside it,
	// each selecting one side by pod template; without one, traffic follows
	// the ratio of canary to stable replicas behind this Service.
	Service string `json:"service"`

	// TrafficRouting names the router that sets the weights; without it the
	// weight is approximated by the replica ratio.
	// +optional
	TrafficRouting *TrafficRouting `json:"trafficRouting,omitempty"`

	// Steps run in order; after the last one the canary is promoted. With
	// no steps, the canary is promoted as soon as it is available.
	// +kubebuilder:validation:MaxItems=100
	// +optional
	Steps []CanaryStep `json:"steps,omitempty"`

	// ScaleDownDelay keeps a routed canary's pods after its promotion has
	// sent all traffic back to the stable Service, so that the router
	// (a Gateway, a mesh) has applied the change before they go; the
	// default is 10 seconds, at most 24 hours. Without a router it is
	// not used: kube-proxy follows the pods themselves.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]{1,5}(\.[0-9]{1,9})?(ns|us|µs|μs|ms|s|m|h)){1,6}$`
	ScaleDownDelay *metav1.Duration `json:"scaleDownDelay,omitempty"`
}

// CanaryStep is one step of a canary; exactly one field is set.
// +kubebuilder:validation:MinProperties=1
// +kubebuilder:validation:MaxProperties=1
type CanaryStep struct {
	// SetWeight sends this percentage of traffic to the canary.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	SetWeight *int32 `json:"setWeight,omitempty"`

	// Pause waits for a duration, or, without one, until promoted by hand.
	// +optional
	Pause *RolloutPause `json:"pause,omitempty"`

	// Analysis runs templates and waits for their verdict.
	// +optional
	Analysis *AnalysisStep `json:"analysis,omitempty"`

	// SetHeaderRoute sends requests matching headers or cookies to the
	// canary, whatever the weight (A/B testing). Routers that cannot match
	// on headers refuse it.
	// +optional
	SetHeaderRoute *HeaderRoute `json:"setHeaderRoute,omitempty"`

	// SetMirror copies a percentage of requests to the canary; responses
	// from the canary are discarded. Routers that cannot mirror refuse it.
	// +optional
	SetMirror *Mirror `json:"setMirror,omitempty"`
}

// RolloutPause waits.
type RolloutPause struct {
	// Duration to wait; without it the rollout waits until
	// `weir rollout promote`. At most 24 hours.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]{1,5}(\.[0-9]{1,9})?(ns|us|µs|μs|ms|s|m|h)){1,6}$`
	Duration *metav1.Duration `json:"duration,omitempty"`
}

// HeaderRoute sends requests that match to the canary.
type HeaderRoute struct {
	// Matches: a request that satisfies any of them goes to the canary. An
	// empty list removes the header route.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Matches []RequestMatch `json:"matches,omitempty"`
}

// RequestMatch matches a request by one header or cookie.
// +kubebuilder:validation:XValidation:rule="has(self.header) != has(self.cookie)",message="set exactly one of header and cookie"
type RequestMatch struct {
	// Header name to match.
	// +optional
	Header string `json:"header,omitempty"`
	// Cookie name to match.
	// +optional
	Cookie string `json:"cookie,omitempty"`
	// Value the header or cookie must equal.
	// +optional
	Value string `json:"value,omitempty"`
	// Regex the header or cookie value must match, instead of Value.
	// +optional
	Regex string `json:"regex,omitempty"`
}

// Mirror copies requests to the canary.
type Mirror struct {
	// Percent of requests copied; 0 stops mirroring.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	Percent int32 `json:"percent"`
}

// TrafficRouting names exactly one router.
// +kubebuilder:validation:MinProperties=1
// +kubebuilder:validation:MaxProperties=1
type TrafficRouting struct {
	// GatewayAPI sets backendRef weights on an HTTPRoute.
	// +optional
	GatewayAPI *GatewayAPIRouting `json:"gatewayAPI,omitempty"`
	// Istio sets destination weights on a VirtualService.
	// +optional
	Istio *IstioRouting `json:"istio,omitempty"`
	// SMI writes a TrafficSplit.
	// +optional
	SMI *SMIRouting `json:"smi,omitempty"`
	// NGINX writes a canary Ingress beside the user's Ingress.
	// +optional
	NGINX *NGINXRouting `json:"nginx,omitempty"`
}

// GatewayAPIRouting names the HTTPRoute whose rules send traffic to the
// canary Service; weir sets the weights of the stable and canary backends.
type GatewayAPIRouting struct {
	// HTTPRoute in the Rollout's namespace.
	HTTPRoute string `json:"httpRoute"`
}

// IstioRouting names the VirtualService and the HTTP routes in it whose
// destinations weir weights between the stable and canary Services.
type IstioRouting struct {
	// VirtualService in the Rollout's namespace.
	VirtualService string `json:"virtualService"`
	// Routes are the names of the HTTP routes to weight; empty means the
	// only route.
	// +optional
	Routes []string `json:"routes,omitempty"`
}

// SMIRouting writes a TrafficSplit for the Service.
type SMIRouting struct {
	// TrafficSplit name; the default is the Rollout's name.
	// +optional
	TrafficSplit string `json:"trafficSplit,omitempty"`
}

// NGINXRouting names the Ingress that serves the stable Service; weir
// adds "<ingress>-canary" with the NGINX canary annotations.
type NGINXRouting struct {
	// Ingress in the Rollout's namespace.
	Ingress string `json:"ingress"`
}

// BlueGreenStrategy runs a full-size preview of the new template behind a
// preview Service and switches the active Service to it on promotion.
type BlueGreenStrategy struct {
	// ActiveService serves users; on promotion it moves to the new pods.
	ActiveService string `json:"activeService"`

	// PreviewService selects the preview pods before promotion.
	PreviewService string `json:"previewService"`

	// PrePromotionAnalysis must succeed before the switch.
	// +optional
	PrePromotionAnalysis *AnalysisStep `json:"prePromotionAnalysis,omitempty"`

	// AutoPromotion switches as soon as the preview is available and the
	// pre-promotion analysis passed; the default is true. When false the
	// rollout waits for `weir rollout promote`.
	// +optional
	AutoPromotion *bool `json:"autoPromotion,omitempty"`

	// ScaleDownDelay keeps the old pods after the switch, for a fast way
	// back; the default is 30 seconds, at most 24 hours.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]{1,5}(\.[0-9]{1,9})?(ns|us|µs|μs|ms|s|m|h)){1,6}$`
	ScaleDownDelay *metav1.Duration `json:"scaleDownDelay,omitempty"`
}

// AnalysisStep runs analysis templates.
type AnalysisStep struct {
	// Templates to run together; the step fails when any fails.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	Templates []AnalysisTemplateRef `json:"templates"`
	// Args fill the templates' arguments. weir also passes "namespace",
	// "rollout", "service", "canary-service", "stable-service",
	// "canary-hash" and "stable-hash".
	// +optional
	Args []AnalysisArg `json:"args,omitempty"`
}

// AnalysisTemplateRef names an AnalysisTemplate in the Rollout's namespace,
// or one of weir's built-in templates.
type AnalysisTemplateRef struct {
	// Name of the template.
	Name string `json:"name"`
	// Builtin selects one of the templates weir ships (for example
	// "istio-request-success-rate") instead of an object in the cluster.
	// +optional
	Builtin bool `json:"builtin,omitempty"`
}

// AnalysisArg is a name and value passed to templates.
type AnalysisArg struct {
	// Name of the argument.
	Name string `json:"name"`
	// Value of the argument.
	Value string `json:"value"`
}

// FailurePolicy says what weir does after an abort.
type FailurePolicy struct {
	// RevertInGit pushes a commit that reverts the failed revision's change
	// to the tracked branch, with credentials from the Application's
	// Secret and a message that says which check failed.
	// +optional
	RevertInGit bool `json:"revertInGit,omitempty"`
}

// ProgressingCondition is True on a Rollout while it releases a template;
// its reason and message say how far it has come.
const ProgressingCondition = "Progressing"

// RolloutPhase is where a rollout is.
type RolloutPhase string

// Phases of a rollout.
const (
	// RolloutIdle: the stable Deployment runs the template in Git.
	RolloutIdle RolloutPhase = "Idle"
	// RolloutProgressing: steps are running.
	RolloutProgressing RolloutPhase = "Progressing"
	// RolloutPaused: waiting for a duration or for a promotion by hand.
	RolloutPaused RolloutPhase = "Paused"
	// RolloutPromoting: the new template is being applied to stable.
	RolloutPromoting RolloutPhase = "Promoting"
	// RolloutAborted: traffic is back on stable and the revision failed.
	RolloutAborted RolloutPhase = "Aborted"
)

// RolloutStatus records every step, so a restarted controller resumes where
// it was without shifting traffic twice.
type RolloutStatus struct {
	// ObservedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready (the stable Deployment runs Git's template, or the
	// release failed when False with reason AnalysisFailed, ...), Stalled
	// (what the Rollout names is missing or wrong), and Progressing (a
	// release is under way).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Phase of the current rollout.
	// +optional
	Phase RolloutPhase `json:"phase,omitempty"`

	// StableHash is the hash of the pod template the stable Deployment runs.
	// +optional
	StableHash string `json:"stableHash,omitempty"`

	// CanaryHash is the hash of the pod template being released.
	// +optional
	CanaryHash string `json:"canaryHash,omitempty"`

	// Revision is the Git revision that brought the canary template.
	// +optional
	Revision string `json:"revision,omitempty"`

	// PreviousRevision is the revision applied before Revision: a revert
	// in Git undoes the commits after it up to Revision.
	// +optional
	PreviousRevision string `json:"previousRevision,omitempty"`

	// StepStartedAt is when the current step (or the wait for the canary
	// to become available) began; the progress deadline counts from it.
	// +optional
	StepStartedAt *metav1.Time `json:"stepStartedAt,omitempty"`

	// ScaleDownAt is when a promoted rollout removes its copy: the
	// blue/green preview, or the canary of a routed canary.
	// +optional
	ScaleDownAt *metav1.Time `json:"scaleDownAt,omitempty"`

	// PausedByHand is true while `weir rollout pause` holds the rollout.
	// +optional
	PausedByHand bool `json:"pausedByHand,omitempty"`

	// HandledRequests maps each action annotation (weir.dev/promote, ...)
	// to the value last acted on, so that each request is acted on once.
	// +optional
	HandledRequests map[string]string `json:"handledRequests,omitempty"`

	// CurrentStep is the index of the step running; equal to the number of
	// steps once all have run.
	// +optional
	CurrentStep int32 `json:"currentStep"`

	// CanaryWeight is the percentage of traffic the router (or the replica
	// ratio) sends to the canary.
	// +optional
	CanaryWeight int32 `json:"canaryWeight"`

	// PauseStartedAt is when the current pause began.
	// +optional
	PauseStartedAt *metav1.Time `json:"pauseStartedAt,omitempty"`

	// Analyses are the analysis runs of this rollout, oldest first.
	// +optional
	Analyses []AnalysisRunStatus `json:"analyses,omitempty"`

	// FailedRevisions are revisions whose release failed; a template that
	// one of them brought is never released again, whatever commit brings
	// it, unless retried by hand.
	// +optional
	FailedRevisions []FailedRevision `json:"failedRevisions,omitempty"`

	// Message says, in words, what the rollout is doing or why it stopped.
	// +optional
	Message string `json:"message,omitempty"`
}

// FailedRevision is a quarantined release.
type FailedRevision struct {
	// Revision in Git.
	Revision string `json:"revision"`
	// TemplateHash of the pod template it brought.
	TemplateHash string `json:"templateHash"`
	// Reason names the check that failed and the measured value.
	Reason string `json:"reason"`
	// RevertCommit is the commit weir pushed to revert it, if any.
	// +optional
	RevertCommit string `json:"revertCommit,omitempty"`
	// RevertError says why the last attempt pushed no revert commit, when
	// the Rollout asked for one. weir tries again, waiting longer each
	// time, up to MaxRevertAttempts, unless the error cannot pass (a
	// conflict, a tag or commit deployed rather than a branch).
	// +optional
	RevertError string `json:"revertError,omitempty"`
	// RevertAttempts counts the attempts to push the revert.
	// +optional
	RevertAttempts int32 `json:"revertAttempts,omitempty"`
	// RevertGaveUp is true once weir stopped trying to revert.
	// +optional
	RevertGaveUp bool `json:"revertGaveUp,omitempty"`
	// LastRevertAttempt is when weir last tried.
	// +optional
	LastRevertAttempt *metav1.Time `json:"lastRevertAttempt,omitempty"`
	// FailedAt is when the rollout aborted.
	FailedAt metav1.Time `json:"failedAt"`
}

// MaxFailedRevisions bounds status.failedRevisions.
const MaxFailedRevisions = 10

// MaxRevertAttempts bounds the attempts to push one revert commit.
const MaxRevertAttempts = 5

// RevertSummary tells what became of the revert in Git of f; it is empty
// when none was tried.
func (f *FailedRevision) RevertSummary() string {
	switch {
	case f.RevertCommit != "":
		return "reverted in Git by commit " + f.RevertCommit
	case f.RevertGaveUp:
		return fmt.Sprintf("the revert in Git failed, and weir gave up after %d attempts: %s", f.RevertAttempts, f.RevertError)
	case f.RevertError != "":
		return fmt.Sprintf("the revert in Git failed (attempt %d of %d; weir tries again): %s", f.RevertAttempts, MaxRevertAttempts, f.RevertError)
	}
	return ""
}

// Rollout releases changes to a Deployment progressively. It lives in Git
// beside the Deployment it names.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ro,categories=weir
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=`.spec.targetRef.name`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Step",type=integer,JSONPath=`.status.currentStep`
// +kubebuilder:printcolumn:name="Weight",type=integer,JSONPath=`.status.canaryWeight`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Rollout struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RolloutSpec   `json:"spec,omitempty"`
	Status RolloutStatus `json:"status,omitempty"`
}

// RolloutList is a list of Rollouts.
//
// +kubebuilder:object:root=true
type RolloutList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Rollout `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Rollout{}, &RolloutList{})
}
