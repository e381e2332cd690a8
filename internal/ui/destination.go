package ui

import (
	"context"
	"net/url"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/cluster"
)

// remoteTimeout bounds each request of a page or action to a remote
// cluster, so that one that does not answer fails the page rather than
// holding it (but watches, see watcher).
const remoteTimeout = cluster.DefaultTimeout

// destination is the cluster an Application's objects are on, as the UI
// reaches it for the user: weir's own, with the session's identity, or
// the remote cluster the Application syncs to, with the credentials of
// its kubeconfig Secret, which the UI reads as the user first (so only a
// user who may read the Secret, and so hold those credentials, sees or
// steers anything there).
type destination struct {
	// Secret is "namespace/name" of the remote cluster's kubeconfig
	// Secret; "" for weir's own cluster.
	Secret string
	// Host is the remote API server's host and port.
	Host string
	cfg  *rest.Config
	c    client.WithWatch
}

// Remote says whether the objects are on a remote cluster.
func (d destination) Remote() bool { return d.Secret != "" }

// destinationOf is the cluster app syncs to. An error says why the user
// may not reach a remote one (the API server's refusal to read the
// Secret as them, with its status, or a kubeconfig weir refuses); the
// destination still names the Secret then.
func (s *Server) destinationOf(ctx context.Context, sess *session, app *weirv1.Application) (destination, error) {
	key, ok := cluster.SecretOf(app)
	if !ok {
		return destination{cfg: sess.cfg, c: sess.c}, nil
	}
	d := destination{Secret: key.String()}
	cfg, _, err := cluster.RemoteConfig(ctx, sess.c, app)
	if err != nil {
		return d, err
	}
	if u, err := url.Parse(cfg.Host); err == nil && u.Host != "" {
		d.Host = u.Host
	} else {
		d.Host = cfg.Host
	}
	cfg.Timeout = remoteTimeout
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: s.scheme})
	if err != nil {
		return d, err
	}
	d.cfg, d.c = cfg, c
	return d, nil
}

// watcher is a client of d for the watches of a page's live updates,
// which the timeout of a remote cluster's requests would cut.
func (s *Server) watcher(d destination) (client.WithWatch, error) {
	if !d.Remote() {
		return d.c, nil
	}
	cfg := rest.CopyConfig(d.cfg)
	cfg.Timeout = 0
	return client.NewWithWatch(cfg, client.Options{Scheme: s.scheme})
}
