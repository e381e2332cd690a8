package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// hungApplications is how many Applications of the hung server there are:
// as many as the controller syncs at once.
const hungApplications = 4

// TestHungGitServersHoldUpNoOtherApplication: the Git server of a few teams
// accepts connections and never answers. Their Applications, as many as
// the controller syncs at once, wait on it no longer than the fetch
// timeout, and another team's Application syncs.
func TestHungGitServersHoldUpNoOtherApplication(t *testing.T) {
	silent := testenv.NewSilentServer(t)
	var hung []*story
	for i := range hungApplications {
		hung = append(hung, given(t, nil).whenApplication(func(spec *weirv1.ApplicationSpec) {
			spec.Source.URL = fmt.Sprintf("http://%s/team-%d.git", silent.Addr(), i)
		}))
	}
	testenv.Eventually(t, time.Minute, "every hung Application fetching", func(context.Context) error {
		if n := silent.Accepted(); n < hungApplications {
			return fmt.Errorf("%d fetches from the silent server", n)
		}
		return nil
	})

	healthy := given(t, map[string]string{"config.yaml": fixture.ConfigMap("greeting", "text", "hello")})
	healthy.whenApplication(nil).thenApplied(healthy.repo.Head())

	for _, s := range hung {
		app := &weirv1.Application{}
		s.get(app, "shop")
		if apimeta.IsStatusConditionTrue(app.Status.Conditions, weirv1.ReadyCondition) {
			t.Errorf("an Application of the silent server is Ready: %v", conditionSummary(app))
		}
	}
}
