// Package scale measures weir at scale: N Applications of 20 objects each
// on the local control plane, the real `weir controller` as a process, one
// Git repository over git's http-backend. BenchmarkScale reports how long
// syncs take to converge, what weir costs at rest (API requests, ref
// listings, heap, RSS, CPU), how fast drift heals, and where the time of a
// sync goes. Run it with `make bench-scale` (APPS=10|100|500), and with
// -controller=flux (`make bench-flux`) for the same figures of Flux's
// source-controller and kustomize-controller in weir's place.
package scale

import (
	"path/filepath"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"weir.dev/weir/internal/testenv"
)

func TestMain(m *testing.M) {
	log.SetLogger(logr.Discard())
	testenv.Main(m, installCRDs)
}

// installCRDs installs every CRD of config/crd/bases.
func installCRDs(cfg *rest.Config) (func(), error) {
	files, err := filepath.Glob("../../config/crd/bases/*.yaml")
	if err != nil {
		return nil, err
	}
	return func() {}, testenv.InstallCRDFiles(cfg, files...)
}
