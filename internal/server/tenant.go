package server

import (
	"context"
	"net/http"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// tenantSecrets reads the webhook Secrets that Applications name in
// spec.source.webhookSecretRef, each at most once per ttl, as secretCache
// reads the controller's own.
type tenantSecrets struct {
	reader client.Reader
	ttl    time.Duration
	now    func() time.Time

	mu     sync.Mutex
	caches map[client.ObjectKey]*secretCache
}

// maxTenantSecrets is how many Secrets are cached before the expired ones
// are dropped: only Secrets that Applications name are ever read.
const maxTenantSecrets = 256

// get returns the token of the Secret key.
func (t *tenantSecrets) get(ctx context.Context, key client.ObjectKey) ([]byte, error) {
	t.mu.Lock()
	c, ok := t.caches[key]
	if !ok {
		if len(t.caches) >= maxTenantSecrets {
			t.dropExpired()
		}
		c = &secretCache{reader: t.reader, key: key, ttl: t.ttl, now: t.now}
		t.caches[key] = c
	}
	t.mu.Unlock()
	return c.get(ctx)
}

// dropExpired forgets the Secrets whose token is no longer fresh; t.mu is
// held.
func (t *tenantSecrets) dropExpired() {
	now := t.now()
	for key, c := range t.caches {
		c.mu.Lock()
		expired := !now.Before(c.expires)
		c.mu.Unlock()
		if expired {
			delete(t.caches, key)
		}
	}
}

// trusting returns those of apps whose webhookSecretRef names a Secret
// that proves the request (p.verify), and the Secrets tried, as
// namespace/name. A Secret that cannot be read proves nothing; its error
// is logged, never its value.
func (rc *Receiver) trusting(ctx context.Context, p provider, h http.Header, body []byte, apps []*weirv1.Application) (trusted []*weirv1.Application, tried []string) {
	proven := map[client.ObjectKey]bool{}
	for _, app := range apps {
		ref := app.Spec.Source.WebhookSecretRef
		if ref == nil {
			continue
		}
		key := client.ObjectKey{Namespace: app.Namespace, Name: ref.Name}
		ok, seen := proven[key]
		if !seen {
			ok = rc.proves(ctx, p, h, body, key)
			proven[key] = ok
			tried = append(tried, key.String())
		}
		if ok {
			trusted = append(trusted, app)
		}
	}
	return trusted, tried
}

// proves reports whether the Secret key's token proves the request.
func (rc *Receiver) proves(ctx context.Context, p provider, h http.Header, body []byte, key client.ObjectKey) bool {
	token, err := rc.tenants.get(ctx, key)
	if err != nil {
		rc.cfg.Log.Error(err, "cannot verify webhooks with an Application's webhookSecretRef", "provider", p.name)
		return false
	}
	return p.verify(h, body, token) == nil
}
