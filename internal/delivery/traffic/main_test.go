package traffic

import (
	"testing"

	// The Istio CRDs the tests install ship in this module; importing a
	// package of it (one without dependencies) keeps it in weir's module
	// graph for testenv.ModuleDir.
	_ "istio.io/api/label"

	"weir.dev/weir/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
