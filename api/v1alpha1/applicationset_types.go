package v1alpha1

import (
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// ApplicationSetSpec stamps out Applications in the set's namespace: one
// per element of its generators, each the template with the element's
// parameters put in.
type ApplicationSetSpec struct {
	// Generators produce the elements; the set has the elements of all of
	// them.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	Generators []Generator `json:"generators"`

	// Template is the Application made for each element. Every string in
	// it may hold parameters as {{name}}; a parameter the element does not
	// have is an error.
	Template ApplicationTemplate `json:"template"`

	// PreserveApplications keeps the Application of an element that
	// disappeared (it is no longer owned by the set) rather than deleting
	// it.
	// +optional
	PreserveApplications bool `json:"preserveApplications,omitempty"`

	// Rollout releases a change of the generated Applications (the
	// template, or a generator's output) wave by wave; without it every
	// Application is changed at once.
	// +optional
	Rollout *ApplicationSetRollout `json:"rollout,omitempty"`

	// ServiceAccountName is a ServiceAccount of the set's namespace that
	// weir impersonates to list the Secrets of its clusters generators
	// (their metadata only). The default is the controller's
	// --default-service-account; without either, a clusters generator
	// fails. It does not apply to the generated Applications, whose own
	// spec.serviceAccountName the template sets.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// Interval between runs of the generators (a Git listing, a list of
	// cluster Secrets) when nothing else triggers one; the default is three
	// minutes, held between one second and 24 hours.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]{1,5}(\.[0-9]{1,9})?(ns|us|µs|μs|ms|s|m|h)){1,6}$`
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`
}

// Generator produces elements, each a set of string parameters. Exactly one
// field is set.
// +kubebuilder:validation:XValidation:rule="[has(self.list), has(self.clusters), has(self.git), has(self.matrix)].filter(x, x).size() == 1",message="set exactly one of list, clusters, git and matrix"
type Generator struct {
	// List gives its elements literally.
	// +optional
	List *ListGenerator `json:"list,omitempty"`
	// Clusters gives an element per cluster Secret.
	// +optional
	Clusters *ClustersGenerator `json:"clusters,omitempty"`
	// Git gives an element per directory or file of a repository.
	// +optional
	Git *GitGenerator `json:"git,omitempty"`
	// Matrix gives every combination of the elements of two generators.
	// +optional
	Matrix *MatrixGenerator `json:"matrix,omitempty"`
}

// ListGenerator gives literal elements.
type ListGenerator struct {
	// Elements, each a map of parameter names to values.
	// +kubebuilder:validation:MaxItems=500
	Elements []map[string]string `json:"elements"`
}

// ClustersGenerator gives an element for each kubeconfig Secret of the
// set's namespace that its selector matches, with the parameters
// cluster.name (the Secret's name, what spec.destination.cluster names)
// and cluster.labels.<key> for each of the Secret's labels.
type ClustersGenerator struct {
	// Selector of the Secrets' labels; it must not be empty.
	Selector metav1.LabelSelector `json:"selector"`
}

// GitGenerator gives an element for each directory, or each file, of a
// commit of a repository that a pattern matches. Patterns are paths from
// the repository's root, as path.Match reads them ("apps/*"); a pattern
// that starts with "!" excludes what it matches.
// +kubebuilder:validation:XValidation:rule="has(self.directories) != has(self.files)",message="set exactly one of directories and files"
type GitGenerator struct {
	// URL of the repository, as an Application's spec.source.url.
	// +kubebuilder:validation:Pattern=`^(https?://|ssh://|file://|[A-Za-z0-9._-]+@[A-Za-z0-9._-]+:)`
	URL string `json:"url"`
	// Ref selects the commit; the default is the branch "main".
	// +optional
	Ref GitRef `json:"ref,omitempty"`
	// SecretRef names a Secret in the set's namespace with credentials,
	// as an Application's spec.source.secretRef.
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`
	// Directories give an element per matching directory, with the
	// parameters path ("apps/web") and path.basename ("web").
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Directories []string `json:"directories,omitempty"`
	// Files give an element per matching JSON or YAML file holding an
	// object, or one per object of a file holding a list: its fields as
	// parameters (nested fields joined with dots: "region.name"), and path
	// (the file's directory), path.basename and path.filename.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Files []string `json:"files,omitempty"`
}

// MatrixGenerator combines two generators: an element for each pair of
// their elements, with the parameters of both. A parameter both give with
// different values is an error.
type MatrixGenerator struct {
	// Generators are the two to combine.
	// +kubebuilder:validation:MinItems=2
	// +kubebuilder:validation:MaxItems=2
	Generators []MatrixElementGenerator `json:"generators"`
}

// MatrixElementGenerator is a generator within a matrix: any but a matrix.
// +kubebuilder:validation:XValidation:rule="[has(self.list), has(self.clusters), has(self.git)].filter(x, x).size() == 1",message="set exactly one of list, clusters and git"
type MatrixElementGenerator struct {
	// List gives its elements literally.
	// +optional
	List *ListGenerator `json:"list,omitempty"`
	// Clusters gives an element per cluster Secret.
	// +optional
	Clusters *ClustersGenerator `json:"clusters,omitempty"`
	// Git gives an element per directory or file of a repository.
	// +optional
	Git *GitGenerator `json:"git,omitempty"`
}

// ApplicationTemplate is the Application made for each element.
type ApplicationTemplate struct {
	// Metadata of the Applications; name is required and must come out a
	// valid, unique name for each element.
	Metadata ApplicationTemplateMeta `json:"metadata"`
	// Spec of the Applications, as an Application's spec. It is checked
	// once the parameters are put in: a field an Application does not have
	// is an error.
	// +kubebuilder:validation:Type=object
	// +kubebuilder:pruning:PreserveUnknownFields
	Spec apiextensionsv1.JSON `json:"spec"`
}

// ApplicationTemplateMeta is the metadata of a generated Application.
type ApplicationTemplateMeta struct {
	// Name of the Application, as "{{cluster.name}}-web".
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Labels of the Application.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// Annotations of the Application.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// ApplicationSetRollout releases a change of the set's Applications in waves. An
// element's wave is the value of one of its parameters (a cluster's label,
// a list element's field); waves open in the order declared, each once
// every Application of the waves before it is Ready and Healthy with the
// change and its Rollouts promoted. Applications of waves not yet open
// keep what they had. A failed Application stops the rollout in its wave.
type ApplicationSetRollout struct {
	// WaveParameter names the parameter whose value is an element's wave,
	// as "cluster.labels.wave".
	// +kubebuilder:validation:MinLength=1
	WaveParameter string `json:"waveParameter"`
	// Waves are the values of waveParameter in the order they receive a
	// change. Elements with another value, or none, form a last wave.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=20
	Waves []string `json:"waves"`
	// MaxUnavailable is how many Applications of the open wave may be
	// changing at once: a number or a percentage of the wave's
	// Applications (rounded up); the default is all of them.
	// +kubebuilder:validation:XIntOrString
	// +optional
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`
}

// ApplicationSetStatus says what the set generated and where its rollout
// stands.
type ApplicationSetStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready (every element has its Application, changed as
	// the template says), Reconciling (a rollout is under way) and Stalled
	// (the generators or the template fail).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Applications is how many Applications the set generated.
	// +optional
	Applications int32 `json:"applications,omitempty"`
	// Waves are where each wave of the rollout stands, in order.
	// +optional
	Waves []WaveStatus `json:"waves,omitempty"`
}

// WaveStatus is where one wave of a rollout stands.
type WaveStatus struct {
	// Name is the wave's value of the wave parameter; "" for the last wave
	// of the elements no declared wave holds.
	Name string `json:"name"`
	// Phase: Pending (an earlier wave is not done), Progressing, Complete
	// (every Application has the change and is Ready and Healthy), or
	// Failed (an Application with the change failed: the rollout stops).
	Phase string `json:"phase"`
	// Applications in the wave.
	Applications int32 `json:"applications"`
	// Updated is how many of them have the change.
	Updated int32 `json:"updated"`
	// Ready is how many of them are Ready and Healthy with the change,
	// their Rollouts promoted.
	Ready int32 `json:"ready"`
	// Message names what the wave waits for, or the Application that
	// failed and why.
	// +optional
	Message string `json:"message,omitempty"`
}

// Phases of a wave.
const (
	WavePending     = "Pending"
	WaveProgressing = "Progressing"
	WaveComplete    = "Complete"
	WaveFailed      = "Failed"
)

// Labels and annotations the set puts on its Applications.
const (
	// ApplicationSetLabel names the ApplicationSet that generated an
	// Application.
	ApplicationSetLabel = "weir.dev/application-set"
	// ApplicationSetHashAnnotation is a hash of what the set last wrote to an
	// Application, so that a change is seen without comparing specs the
	// API server defaulted.
	ApplicationSetHashAnnotation = "weir.dev/application-set-hash"
)

// ApplicationSet stamps out Applications from a template over generators:
// literal lists, cluster Secrets, directories and files of a Git
// repository, and matrices of two of them.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=appset,categories=weir
// +kubebuilder:printcolumn:name="Applications",type=integer,JSONPath=`.status.applications`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ApplicationSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ApplicationSetSpec   `json:"spec,omitempty"`
	Status ApplicationSetStatus `json:"status,omitempty"`
}

// ApplicationSetList is a list of ApplicationSets.
//
// +kubebuilder:object:root=true
type ApplicationSetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ApplicationSet `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ApplicationSet{}, &ApplicationSetList{})
}

// ApplicationSetIntervalBounds hold an ApplicationSet's spec.interval.
var ApplicationSetIntervalBounds = DurationBounds{Min: time.Second, Max: 24 * time.Hour}

// DefaultApplicationSetInterval is the interval of a set that sets none.
const DefaultApplicationSetInterval = 3 * time.Minute

// IntervalOrDefault is the interval between runs of the generators.
func (s ApplicationSetSpec) IntervalOrDefault() time.Duration {
	return durationOr(s.Interval, DefaultApplicationSetInterval, ApplicationSetIntervalBounds)
}
