// Package e2e tells weir's stories end to end: a real control plane, real
// Git repositories, the controller running as it does in production, and a
// user who commits, reverts and asks what happened.
package e2e

import (
	"context"
	"log/slog"
	"net"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"weir.dev/weir/internal/controller"
	"weir.dev/weir/internal/isolate"
	"weir.dev/weir/internal/server"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/harness"
)

// TestMain trusts the certificate of the HTTPS Git servers first: the
// controller must not read the system roots before it is among them.
func TestMain(m *testing.M) {
	// The controller renders in this binary, re-executed.
	isolate.ServeIfWorker()
	testenv.Main(m, testenv.TrustTestServers, installCRDs, createWebhookSecret, startController)
}

// controllerLog collects everything the controller logs, so that tests can
// assert that no secret ever reaches it.
var controllerLog harness.LogBuffer

// The controller's endpoints on loopback, set before the tests run.
var (
	metricsURL string // the manager's metrics server
	webhookURL string // the push webhook receiver
)

// webhookSecret is the Secret, and webhookToken its token, that the
// controller's webhook receiver verifies pushes with.
var webhookSecret = client.ObjectKey{Namespace: "weir-webhook", Name: "webhook-token"}

const webhookToken = "e2e-webhook-token-3b9d"

func createWebhookSecret(cfg *rest.Config) (func(), error) {
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: webhookSecret.Namespace}}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: webhookSecret.Namespace, Name: webhookSecret.Name},
		Data:       map[string][]byte{server.SecretKey: []byte(webhookToken)},
	}
	if err := c.Create(ctx, ns); err != nil {
		return nil, err
	}
	return func() {}, c.Create(ctx, secret)
}

func installCRDs(cfg *rest.Config) (func(), error) {
	return func() {}, testenv.InstallCRDFiles(cfg, "../../config/crd/bases/weir.dev_applications.yaml",
		"../../config/crd/bases/weir.dev_applicationsets.yaml",
		"../../config/crd/bases/weir.dev_rollouts.yaml", "../../config/crd/bases/weir.dev_analysistemplates.yaml",
		"../../config/crd/bases/weir.dev_sourcepolicies.yaml",
		"../../config/crd/bases/weir.dev_clustersyncpolicies.yaml",
		"../../config/crd/bases/weir.dev_imageupdates.yaml",
		"../../config/crd/bases/weir.dev_pipelines.yaml",
		"../../config/crd/bases/weir.dev_notifications.yaml")
}

// startController runs weir's controller, its metrics server and its push
// webhook receiver on free loopback ports, for the whole package.
func startController(cfg *rest.Config) (func(), error) {
	ctrl.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(&controllerLog, nil)))
	metricsAddr, err := freeLoopbackAddress()
	if err != nil {
		return nil, err
	}
	webhookAddr, err := freeLoopbackAddress()
	if err != nil {
		return nil, err
	}
	metricsURL, webhookURL = "http://"+metricsAddr, "http://"+webhookAddr
	refresh := make(chan event.GenericEvent)
	return harness.Setup(harness.Options{
		Manager:    ctrl.Options{Metrics: metricsserver.Options{BindAddress: metricsAddr}},
		Controller: controller.Options{Refresh: refresh},
		Add: func(mgr ctrl.Manager) error {
			return server.Setup(mgr, server.Options{BindAddress: webhookAddr, Secret: webhookSecret, Refresh: refresh})
		},
	})(cfg)
}

// freeLoopbackAddress is a loopback address with a port that is free now.
func freeLoopbackAddress() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
