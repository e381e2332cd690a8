package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the API group and version of weir's objects.
	GroupVersion = schema.GroupVersion{Group: "weir.dev", Version: "v1alpha1"}

	// RolloutKind is the group, version and kind of a Rollout.
	RolloutKind = GroupVersion.WithKind("Rollout")

	// SchemeBuilder registers the types of this package.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
