package server

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// SecretKey is the key of the webhook Secret that holds the shared token.
const SecretKey = "token"

// secretCache reads the webhook token from its Secret at most once per
// ttl, so that a flood of requests does not become a flood of reads (weir
// does not watch Secrets). A failed read is kept for ttl too.
type secretCache struct {
	reader client.Reader
	key    client.ObjectKey
	ttl    time.Duration
	now    func() time.Time

	mu      sync.Mutex
	token   []byte
	err     error
	expires time.Time
}

// get returns the token, reading the Secret when the cached one expired.
func (c *secretCache) get(ctx context.Context) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now().Before(c.expires) {
		return c.token, c.err
	}
	c.token, c.err = c.read(ctx)
	c.expires = c.now().Add(c.ttl)
	return c.token, c.err
}

func (c *secretCache) read(ctx context.Context) ([]byte, error) {
	secret := &corev1.Secret{}
	if err := c.reader.Get(ctx, c.key, secret); err != nil {
		return nil, fmt.Errorf("read the webhook Secret %s: %w", c.key, err)
	}
	token := secret.Data[SecretKey]
	if len(token) == 0 {
		return nil, fmt.Errorf("the webhook Secret %s has no %q key, or it is empty", c.key, SecretKey)
	}
	return token, nil
}
