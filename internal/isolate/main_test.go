package isolate

import (
	"os"
	"testing"
)

// TestMain serves renders when the test binary is started as a worker.
func TestMain(m *testing.M) {
	ServeIfWorker()
	os.Exit(m.Run())
}
