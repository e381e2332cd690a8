package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NamespacePlaceholder in a SourcePolicy's destinationNamespaces stands for
// the namespace of the Application being checked.
const NamespacePlaceholder = "$(namespace)"

// SourcePolicySpec says which repositories and namespaces the Applications
// of the selected namespaces may use. A list left empty places no
// restriction; a value is allowed when it matches any pattern of the list.
type SourcePolicySpec struct {
	// NamespaceSelector selects, by their labels, the namespaces whose
	// Applications the policy binds; empty selects every namespace.
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`

	// GitRepositories are patterns that spec.source.url must match, written
	// as "scheme://host[:port]/path": "https://github.com/acme/*",
	// "ssh://git.example.com/team-a/**". URLs are compared in that form:
	// scheme and host lower-cased, no user, default port, ".git" or trailing
	// slash, "." and ".." resolved; git@host:path is ssh://host/path. A "*"
	// matches within one path segment; a final "/**" matches everything
	// beneath.
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=512
	// +kubebuilder:validation:items:Pattern=`^[^/@]+://[^/@]*(/.*)?$`
	// +optional
	GitRepositories []string `json:"gitRepositories,omitempty"`

	// ChartRepositories are patterns, as gitRepositories, that
	// spec.render.helm.chartRef.repository must match.
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=512
	// +kubebuilder:validation:items:Pattern=`^[^/@]+://[^/@]*(/.*)?$`
	// +optional
	ChartRepositories []string `json:"chartRepositories,omitempty"`

	// DestinationNamespaces are patterns ("*" for any run of characters)
	// that the destination namespace, the Helm release namespace and the
	// namespace of every namespaced object rendered must match;
	// "$(namespace)" stands for the Application's own namespace.
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=253
	// +optional
	DestinationNamespaces []string `json:"destinationNamespaces,omitempty"`
}

// SourcePolicy restricts, for the Applications of the namespaces it
// selects, the Git and chart repositories they read and the namespaces
// they write to. Every SourcePolicy that selects an Application's
// namespace must allow it; an Application refused is Stalled and nothing
// of it is fetched or applied.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,categories=weir
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type SourcePolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec SourcePolicySpec `json:"spec,omitempty"`
}

// SourcePolicyList is a list of SourcePolicies.
//
// +kubebuilder:object:root=true
type SourcePolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SourcePolicy `json:"items"`
}

func init() {
	SchemeBuilder.Register(&SourcePolicy{}, &SourcePolicyList{})
}
