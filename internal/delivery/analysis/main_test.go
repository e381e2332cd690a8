package analysis

import (
	"testing"

	"k8s.io/client-go/rest"

	"weir.dev/weir/internal/testenv"
)

// TestMain starts a local control plane with weir's CRDs for the
// integration tests (Job metrics, AnalysisTemplates, Secrets); under -short
// only the unit tests run.
func TestMain(m *testing.M) {
	testenv.Main(m, func(cfg *rest.Config) (func(), error) {
		err := testenv.InstallCRDFiles(cfg,
			"../../../config/crd/bases/weir.dev_analysistemplates.yaml",
			"../../../config/crd/bases/weir.dev_rollouts.yaml")
		return func() {}, err
	})
}
