// Package v1alpha1 holds the weir.dev/v1alpha1 API: Application, where
// desired state comes from and how it reaches the cluster.
//
// +kubebuilder:object:generate=true
// +groupName=weir.dev
package v1alpha1
