package testenv

import (
	"path/filepath"
	"testing"
)

// alertmanagerConfig routes every alert to a receiver that sends nothing:
// the tests read the alerts back from Alertmanager's API.
const alertmanagerConfig = `route:
  receiver: none
receivers:
- name: none
`

// StartAlertmanager runs a real Alertmanager (the binary of Debian's
// prometheus-alertmanager package, which .ci/run installs) for the test,
// alone (no cluster peers), with temporary storage on a free port of the
// loopback. It returns Alertmanager's URL once it is ready, and stops it
// when the test ends. Under -short the test is skipped.
func StartAlertmanager(t testing.TB) string {
	t.Helper()
	return startDaemon(t, "prometheus-alertmanager", "prometheus-alertmanager", []byte(alertmanagerConfig),
		func(config, dir, addr string) []string {
			return []string{
				"--config.file=" + config,
				"--storage.path=" + filepath.Join(dir, "data"),
				"--web.listen-address=" + addr,
				"--cluster.listen-address=",
				"--log.level=warn",
			}
		})
}
