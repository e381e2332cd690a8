package testenv

import (
	"context"
	"testing"
	"time"
)

// Eventually calls check every 100ms until it returns nil, and fails the
// test with check's last error if that has not happened within timeout.
func Eventually(t testing.TB, timeout time.Duration, what string, check func(ctx context.Context) error) {
	t.Helper()
	ctx := Context(t, timeout)
	var err error
	for {
		if err = check(ctx); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %s: %v", what, timeout, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
