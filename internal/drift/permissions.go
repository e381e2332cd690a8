package drift

import (
	"context"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
)

// reviewTimeout bounds the access reviews of one resource.
const reviewTimeout = 10 * time.Second

// AllNamespacesAllowed asks the API server, with self subject access
// reviews, whether the caller may list and watch a resource in every
// namespace; a review that fails counts as a refusal, so that the resource
// is watched per namespace.
func AllNamespacesAllowed(reviews authorizationclient.SelfSubjectAccessReviewInterface) func(schema.GroupVersionResource) bool {
	return func(gvr schema.GroupVersionResource) bool {
		ctx, cancel := context.WithTimeout(context.Background(), reviewTimeout)
		defer cancel()
		for _, verb := range []string{"list", "watch"} {
			review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
				ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: gvr.Group, Resource: gvr.Resource},
			}}
			got, err := reviews.Create(ctx, review, metav1.CreateOptions{})
			if err != nil || !got.Status.Allowed {
				return false
			}
		}
		return true
	}
}
