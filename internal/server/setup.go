package server

import (
	"context"
	"net/http"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/metrics"
)

// sourceIndex indexes Applications by the repository key of their
// spec.source.url, so that a push finds its Applications without a scan.
const sourceIndex = "weir.dev/source-repository"

// IndexApplications adds the index that a Receiver's Applications reader
// needs to the manager's cache.
func IndexApplications(ctx context.Context, indexer client.FieldIndexer) error {
	return indexer.IndexField(ctx, &weirv1.Application{}, sourceIndex, sourceKeys)
}

// sourceKeys is the index value of an Application: its repository's key.
func sourceKeys(obj client.Object) []string {
	if key, ok := repoKey(obj.(*weirv1.Application).Spec.Source.URL); ok {
		return []string{key}
	}
	return nil
}

// Options configure the receiver of a manager.
type Options struct {
	// BindAddress is the address the receiver listens on.
	BindAddress string
	// Secret names the Secret whose "token" key is the shared secret.
	Secret client.ObjectKey
	// Refresh is the channel the Application reconciler's Refresh reads.
	Refresh chan<- event.GenericEvent
	// Invalidate, when set, is told the URL of every Application a push
	// refreshes, before it is refreshed (source.Fetcher.Invalidate).
	Invalidate func(url string)
}

// Setup adds the receiver to mgr. It serves on every replica, leader or
// not, so that any replica behind a Service can take webhooks.
func Setup(mgr ctrl.Manager, opts Options) error {
	if err := IndexApplications(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return err
	}
	rec, err := metrics.NewRecorder(ctrlmetrics.Registry)
	if err != nil {
		return err
	}
	receiver := NewReceiver(Config{
		Applications: mgr.GetClient(),
		Secrets:      mgr.GetAPIReader(),
		Secret:       opts.Secret,
		Refresher:    &ReplicaRefresher{Client: mgr.GetClient(), Elected: mgr.Elected(), Events: opts.Refresh},
		Invalidate:   opts.Invalidate,
		Metrics:      rec,
		Log:          mgr.GetLogger().WithName("webhook"),
	})
	shutdown := 10 * time.Second
	return mgr.Add(&manager.Server{
		Name:            "webhook receiver",
		Server:          newHTTPServer(opts.BindAddress, receiver),
		ShutdownTimeout: &shutdown,
	})
}

// newHTTPServer returns the server of a Receiver. Its timeouts back the
// Receiver's own: a connection has 5 s to send its header, the Receiver's
// Timeout to send the whole request, and is closed after a minute idle; a
// header is at most 64 KiB.
func newHTTPServer(addr string, receiver *Receiver) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           receiver,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       receiver.cfg.Timeout,
		WriteTimeout:      2 * receiver.cfg.Timeout,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}
