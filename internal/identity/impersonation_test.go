package identity

import (
	"context"
	"slices"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"weir.dev/weir/internal/testenv"
)

// whoAmI asks the API server who cs's requests come from.
func whoAmI(t testing.TB, cs kubernetes.Interface) authenticationv1.UserInfo {
	t.Helper()
	review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(context.Background(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return review.Status.UserInfo
}

func TestTheAPIServerSeesTheServiceAccountAndTheApplication(t *testing.T) {
	ns := testenv.Namespace(t)
	clients, err := NewCache(testenv.Config(t), DefaultCacheSize, func(cfg *rest.Config) (kubernetes.Interface, error) {
		return kubernetes.NewForConfig(cfg)
	})
	if err != nil {
		t.Fatal(err)
	}
	id := Identity{Application: types.NamespacedName{Namespace: ns, Name: "web"}, ServiceAccount: "deployer"}
	cs, err := clients.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	got := whoAmI(t, cs)
	if want := "system:serviceaccount:" + ns + ":deployer"; got.Username != want {
		t.Errorf("username %q, want %q", got.Username, want)
	}
	// The groups a ServiceAccount's token gives, so that RoleBindings to
	// them apply alike.
	for _, group := range []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"} {
		if !slices.Contains(got.Groups, group) {
			t.Errorf("groups %v lack %s", got.Groups, group)
		}
	}
	if extra := got.Extra[ApplicationExtra]; !slices.Equal(extra, authenticationv1.ExtraValue{ns + "/web"}) {
		t.Errorf("extra %s = %v, want [%s/web]", ApplicationExtra, extra, ns)
	}

	own, err := clients.Get(Identity{Application: id.Application})
	if err != nil {
		t.Fatal(err)
	}
	if got := whoAmI(t, own); got.Username == id.Username() || len(got.Extra[ApplicationExtra]) > 0 {
		t.Errorf("weir's own clients act as %+v", got)
	}
}
