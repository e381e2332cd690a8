package ui

import (
	"context"
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// permission says whether the user may patch one object, and if not, why.
type permission struct {
	Allowed bool
	// Why explains a refusal to the user.
	Why string
}

// mayPatch asks the API server (a SelfSubjectAccessReview, as the user)
// whether the user may patch the named object of weir.dev's resource:
// every action of the UI is such a patch.
func mayPatch(ctx context.Context, sess *session, resource, namespace, name string) permission {
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Group: weirv1.GroupVersion.Group, Resource: resource, Verb: "patch", Namespace: namespace, Name: name,
		},
	}}
	if err := sess.c.Create(ctx, review); err != nil {
		return permission{Why: "weir could not ask the API server what you may do: " + reasonOf(err)}
	}
	if review.Status.Allowed {
		return permission{Allowed: true}
	}
	why := fmt.Sprintf("You may not patch %s.%s in namespace %s, so its actions are not offered.", resource, weirv1.GroupVersion.Group, namespace)
	if r := review.Status.Reason; r != "" {
		why += " The API server says: " + r
	}
	return permission{Why: why}
}

// mayPatchRollout says whether the user may steer at's Rollout. On weir's
// own cluster: whether they may patch the Rollout. On a remote cluster the
// UI acts with the kubeconfig Secret's credentials, which RBAC there
// cannot tell from anybody else's, so weir's cluster decides: the user
// must have read the Secret (destinationOf did, as them) and may patch
// the Application that applied the Rollout.
func mayPatchRollout(ctx context.Context, sess *session, at rolloutAt) permission {
	if !at.dest.Remote() {
		return mayPatch(ctx, sess, "rollouts", at.ro.Namespace, at.ro.Name)
	}
	p := mayPatch(ctx, sess, "applications", at.app.Namespace, at.app.Name)
	if !p.Allowed {
		p.Why = fmt.Sprintf("This Rollout runs on the remote cluster of Secret %s: steering it takes patch on its Application %s/%s. ", at.dest.Secret, at.app.Namespace, at.app.Name) + p.Why
	}
	return p
}
