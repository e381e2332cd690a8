package multicluster

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"weir.dev/weir/internal/testenv"
)

// TestRemotesStart checks that TestMain started the remote control planes,
// each with a Ready node.
func TestRemotesStart(t *testing.T) {
	for i := range remoteClusters {
		c := remoteClient(t, testenv.Remote(t, i))
		var nodes corev1.NodeList
		if err := c.List(t.Context(), &nodes); err != nil || len(nodes.Items) == 0 {
			t.Fatalf("remote %d: %d nodes, %v", i, len(nodes.Items), err)
		}
	}
}
