package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ImageUpdateSpec declares a registry repository to scan, the policy that
// selects its latest tag, and the Application whose Git repository the
// tag is written to.
//
// One object does what Flux splits into an ImageRepository, an
// ImagePolicy and an ImageUpdateAutomation: weir scans a repository for
// one purpose, writing one tag, so the three have one lifecycle.
// +kubebuilder:validation:XValidation:rule="[has(self.policy.semver), has(self.policy.numerical), has(self.policy.alphabetical)].filter(x, x).size() == 1",message="set exactly one of policy.semver, policy.numerical and policy.alphabetical"
type ImageUpdateSpec struct {
	// Image is the repository to scan, "registry.example.com/team/web"
	// (a name without a registry is Docker Hub's).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Image string `json:"image"`

	// SecretRef names a kubernetes.io/dockerconfigjson Secret in the
	// ImageUpdate's namespace with the registry's credentials.
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`

	// CertSecretRef names a Secret in the ImageUpdate's namespace whose
	// "ca.crt" holds PEM certificates the registry's certificate must
	// chain to, besides the system's.
	// +optional
	CertSecretRef *LocalObjectReference `json:"certSecretRef,omitempty"`

	// Insecure speaks plain HTTP to the registry.
	// +optional
	Insecure bool `json:"insecure,omitempty"`

	// Interval between scans; the default is five minutes, held between
	// ten seconds and a day.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]{1,5}(\.[0-9]{1,9})?(ns|us|µs|μs|ms|s|m|h)){1,6}$`
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`

	// FilterTags keeps only some tags, and may rank them on a part of
	// the tag.
	// +optional
	FilterTags *TagFilter `json:"filterTags,omitempty"`

	// Policy selects the latest of the tags.
	Policy ImagePolicy `json:"policy"`

	// Update says where the selected tag is written.
	Update ImageUpdateTarget `json:"update"`

	// Suspend stops scanning and writing.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// TagFilter keeps the tags a regular expression matches.
type TagFilter struct {
	// Pattern is a regular expression (Go's syntax); tags it does not
	// match are left out.
	// +kubebuilder:validation:MaxLength=1024
	Pattern string `json:"pattern"`
	// Extract is what the policy ranks instead of the whole tag: a
	// template of the pattern's named groups, "$ts" or "${version}".
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Extract string `json:"extract,omitempty"`
}

// ImagePolicy ranks tags; exactly one field is set.
type ImagePolicy struct {
	// SemVer selects the highest version in a range, ">=1.0.0 <2.0.0".
	// +optional
	SemVer *SemVerPolicy `json:"semver,omitempty"`
	// Numerical ranks tags as numbers.
	// +optional
	Numerical *OrderPolicy `json:"numerical,omitempty"`
	// Alphabetical ranks tags by their bytes.
	// +optional
	Alphabetical *OrderPolicy `json:"alphabetical,omitempty"`
}

// SemVerPolicy selects the highest version in a range.
type SemVerPolicy struct {
	// Range of versions, in Masterminds/semver's syntax.
	// +kubebuilder:validation:MinLength=1
	Range string `json:"range"`
}

// OrderPolicy selects the first tag in an order.
type OrderPolicy struct {
	// Order is asc (the greatest tag) or desc (the least); the default is
	// asc.
	// +kubebuilder:validation:Enum=asc;desc
	// +kubebuilder:default=asc
	// +optional
	Order string `json:"order,omitempty"`
}

// ImageUpdateTarget says where the selected tag is written: into the Git
// repository and branch of an Application, with its credentials and
// signing key.
type ImageUpdateTarget struct {
	// ApplicationRef names the Application, in the ImageUpdate's
	// namespace, whose repository and branch (spec.source) the tag is
	// committed to.
	ApplicationRef LocalObjectReference `json:"applicationRef"`
	// Path is the directory whose files are updated; the default is the
	// Application's spec.source.path.
	// +optional
	Path string `json:"path,omitempty"`
	// PushBranch, when set, is a branch for review that the commit goes
	// to instead of the tracked branch; weir replaces it at each new tag.
	// +optional
	PushBranch string `json:"pushBranch,omitempty"`
	// Author of the commits; the default is weir <weir@weir.dev>.
	// +optional
	Author *CommitAuthor `json:"author,omitempty"`
}

// CommitAuthor is who commits weir pushes are by.
type CommitAuthor struct {
	// Name of the author.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Email of the author.
	// +kubebuilder:validation:MinLength=1
	Email string `json:"email"`
}

// ImageUpdateStatus is what the last scan found and wrote.
type ImageUpdateStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// LatestImage is the selected image, repository:tag.
	// +optional
	LatestImage string `json:"latestImage,omitempty"`
	// LastScanTime is when the registry was last read.
	// +optional
	LastScanTime *metav1.Time `json:"lastScanTime,omitempty"`
	// LastCommit is the last commit weir pushed for this ImageUpdate.
	// +optional
	LastCommit string `json:"lastCommit,omitempty"`
	// LastPushTime is when LastCommit was pushed.
	// +optional
	LastPushTime *metav1.Time `json:"lastPushTime,omitempty"`
	// Conditions: Ready (the last scan selected a tag and Git says it).
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ImageUpdate scans an OCI registry repository for tags, selects the
// latest by a policy, and commits it to the marked fields of an
// Application's repository.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=iu,categories=weir
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=`.status.latestImage`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Commit",type=string,JSONPath=`.status.lastCommit`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ImageUpdate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ImageUpdateSpec   `json:"spec,omitempty"`
	Status ImageUpdateStatus `json:"status,omitempty"`
}

// ImageUpdateList is a list of ImageUpdates.
//
// +kubebuilder:object:root=true
type ImageUpdateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ImageUpdate `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ImageUpdate{}, &ImageUpdateList{})
}

// ImageUpdateIntervalBounds hold an ImageUpdate's spec.interval: a
// registry is not asked more often than every ten seconds.
var ImageUpdateIntervalBounds = DurationBounds{Min: 10 * time.Second, Max: 24 * time.Hour}

// DefaultImageUpdateInterval is the interval of an ImageUpdate that sets
// none.
const DefaultImageUpdateInterval = 5 * time.Minute

// IntervalOrDefault is the interval between scans, held within
// ImageUpdateIntervalBounds.
func (s ImageUpdateSpec) IntervalOrDefault() time.Duration {
	return durationOr(s.Interval, DefaultImageUpdateInterval, ImageUpdateIntervalBounds)
}
