package install

import (
	"fmt"
	"strings"
	"testing"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/controller"
	"weir.dev/weir/internal/source"
	"weir.dev/weir/internal/testenv"
)

// TestFileSourcesAreRefusedInACluster: weir as installed, without
// --allow-file-sources, refuses an Application that names a repository on
// the controller's disk, for good and saying why.
func TestFileSourcesAreRefusedInACluster(t *testing.T) {
	install(t)
	// Sources as `weir controller` has them by default: no file://.
	installed := controller.Options{Sources: source.Options{Timeout: source.DefaultTimeout}}
	startController(t, asServiceAccount(testenv.Config(t), systemNamespace, "weir"), installed)
	c := testenv.Client(t, weirv1.AddToScheme)
	ns := testenv.Namespace(t)
	grantNamespace(t, ns)
	app := newApplication(t, c, ns, newAppRepo(t).URL(), "")
	awaitApplication(t, c, app, fileSourceRefused)
}

// fileSourceRefused passes once the Application is Stalled because its
// source is on the controller's disk, and says how to allow it.
func fileSourceRefused(s weirv1.ApplicationStatus) error {
	stalled := apimeta.FindStatusCondition(s.Conditions, weirv1.StalledCondition)
	switch {
	case stalled == nil || stalled.Status != metav1.ConditionTrue:
		return fmt.Errorf("want Stalled True, got %v", stalled)
	case stalled.Reason != controller.ReasonSourceNotAllowed:
		return fmt.Errorf("want reason %s, got %s: %s", controller.ReasonSourceNotAllowed, stalled.Reason, stalled.Message)
	case !strings.Contains(stalled.Message, "--allow-file-sources"):
		return fmt.Errorf("the message does not say how to allow it: %s", stalled.Message)
	case s.LastAppliedRevision != "":
		return fmt.Errorf("revision %s was applied", s.LastAppliedRevision)
	}
	return nil
}
