package multicluster

import (
	"testing"
	"time"

	"weir.dev/weir/internal/testenv"
)

// TestHelmChartSeesTheRemoteCluster: a chart synced to a remote cluster
// is rendered with that cluster's APIs as .Capabilities, not weir's: the
// remote cluster serves no weir.dev API.
func TestHelmChartSeesTheRemoteCluster(t *testing.T) {
	s := givenRemote(t, testenv.Remote(t, 1), map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: probe\nversion: 0.1.0\n",
		"templates/apis.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: apis
data:
  weir: {{ if .Capabilities.APIVersions.Has "weir.dev/v1alpha1" }}served{{ else }}absent{{ end }}
`,
	})
	s.whenApplication("remote", nil)
	s.thenApplied(s.repo.Git("rev-parse", "HEAD"), time.Minute)
	s.remoteConfigMap("apis", "weir", "absent")
}
