package identity

import (
	"testing"

	"weir.dev/weir/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
