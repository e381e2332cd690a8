package approval

import (
	"testing"

	"k8s.io/client-go/rest"

	"weir.dev/weir/internal/testenv"
)

// TestMain installs the Pipeline CRD: the policy guards Pipelines.
func TestMain(m *testing.M) {
	testenv.Main(m, func(cfg *rest.Config) (func(), error) {
		return func() {}, testenv.InstallCRDFiles(cfg, "../../config/crd/bases/weir.dev_pipelines.yaml")
	})
}
