package gitwrite

import (
	"fmt"
	"os"
	"testing"

	"weir.dev/weir/internal/testenv"
)

// TestMain makes the certificate of httptest's TLS servers a trusted root,
// so that go-git reaches them over HTTPS as it reaches any host. It starts
// no cluster: writing to Git needs none.
func TestMain(m *testing.M) {
	restore, err := testenv.TrustTestServerCertificate()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	restore()
	os.Exit(code)
}
