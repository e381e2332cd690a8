package v1alpha1

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Enforcement says what a sync does when a policy finds a violation.
// +kubebuilder:validation:Enum=Deny;Warn
type Enforcement string

const (
	// EnforcementDeny refuses the sync: nothing of it is applied.
	EnforcementDeny Enforcement = "Deny"
	// EnforcementWarn applies the sync and reports the violations.
	EnforcementWarn Enforcement = "Warn"
)

// ClusterSyncPolicySpec holds one policy, in CEL or in Rego, and the
// Applications it binds.
// +kubebuilder:validation:XValidation:rule="has(self.cel) != has(self.rego)",message="set exactly one of cel and rego"
type ClusterSyncPolicySpec struct {
	// NamespaceSelector selects the Applications the policy binds by the
	// labels of their namespace; empty or absent binds every Application.
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`

	// Enforcement is Deny (the default: a violation applies nothing) or
	// Warn (the sync applies, and reports the violations).
	// +optional
	Enforcement Enforcement `json:"enforcement,omitempty"`

	// CEL is a policy in the form of a ValidatingAdmissionPolicy.
	// +optional
	CEL *CELPolicy `json:"cel,omitempty"`

	// Rego is a policy in Rego, in Conftest's form.
	// +optional
	Rego *RegoPolicy `json:"rego,omitempty"`
}

// CELPolicy is the spec of a ValidatingAdmissionPolicy, unchanged, and the
// params its expressions read.
type CELPolicy struct {
	// Spec is a ValidatingAdmissionPolicy's spec: matchConstraints,
	// matchConditions, variables, validations and failurePolicy keep their
	// meaning at admission. Without matchConstraints, every object of the
	// set is matched.
	Spec admissionregistrationv1.ValidatingAdmissionPolicySpec `json:"spec"`

	// Params is the object the expressions read as `params`. Set at most
	// one of params and paramRef.
	// +optional
	Params *apiextensionsv1.JSON `json:"params,omitempty"`

	// ParamRef names the ConfigMap the expressions read as `params`.
	// +optional
	ParamRef *ObjectKeyReference `json:"paramRef,omitempty"`
}

// ObjectKeyReference names an object in a namespace.
type ObjectKeyReference struct {
	// Namespace of the object.
	Namespace string `json:"namespace"`
	// Name of the object.
	Name string `json:"name"`
}

// RegoPolicy is Rego modules, evaluated with each object of a sync as
// `input`: the rules named deny, violation or warn (or starting with
// "deny_", "violation_" or "warn_") in the namespaces name the violations,
// as strings or as objects with a "msg", as Conftest reads them.
type RegoPolicy struct {
	// Modules maps a file name to the Rego module it holds.
	// +kubebuilder:validation:MinProperties=1
	Modules map[string]string `json:"modules"`

	// Namespaces are the Rego packages whose rules are evaluated; the
	// default is Conftest's, "main".
	// +optional
	Namespaces []string `json:"namespaces,omitempty"`

	// RegoVersion is the syntax of the modules: v1 (the default, as in
	// Conftest from v0.60) or v0.
	// +kubebuilder:validation:Enum=v0;v1
	// +optional
	RegoVersion string `json:"regoVersion,omitempty"`
}

// ClusterSyncPolicyStatus says whether the policy compiles.
type ClusterSyncPolicyStatus struct {
	// ObservedGeneration is the generation last compiled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready is True when the policy compiles, False with
	// reason CompileFailed and the error otherwise.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// EnforcementOrDefault is the policy's enforcement, Deny when unset.
func (s ClusterSyncPolicySpec) EnforcementOrDefault() Enforcement {
	if s.Enforcement == "" {
		return EnforcementDeny
	}
	return s.Enforcement
}

// ClusterSyncPolicy is a policy every sync of the Applications it binds
// must pass before anything is applied. It is cluster-scoped, so that an
// administrator can impose it on Applications whose authors cannot remove
// it.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=csp,categories=weir
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Enforcement",type=string,JSONPath=`.spec.enforcement`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
type ClusterSyncPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ClusterSyncPolicySpec   `json:"spec"`
	Status ClusterSyncPolicyStatus `json:"status,omitempty"`
}

// ClusterSyncPolicyList is a list of ClusterSyncPolicies.
//
// +kubebuilder:object:root=true
type ClusterSyncPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterSyncPolicy `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ClusterSyncPolicy{}, &ClusterSyncPolicyList{})
}
