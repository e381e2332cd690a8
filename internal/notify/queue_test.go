package notify

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// flaky fails its first failures sends, then succeeds.
type flaky struct {
	failures int32
	err      error
	calls    atomic.Int32
	done     chan struct{}
}

func (f *flaky) Send(context.Context, Event) error {
	n := f.calls.Add(1)
	if n <= f.failures {
		return f.err
	}
	close(f.done)
	return nil
}

func startQueue(t testing.TB, q *Queue) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = q.Start(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func TestFailedDeliveriesAreRetried(t *testing.T) {
	q := NewQueue(10)
	q.Backoff, q.Attempts = time.Millisecond, 5
	startQueue(t, q)
	f := &flaky{failures: 3, err: errors.New("503"), done: make(chan struct{})}
	q.Enqueue(Delivery{Name: "shop/n", Sender: f, Event: failedSync()})
	select {
	case <-f.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the delivery was not retried until it succeeded")
	}
	if got := f.calls.Load(); got != 4 {
		t.Errorf("%d attempts, want 4", got)
	}
}

func TestRefusedDeliveriesAndExhaustedAttemptsStop(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int32
	}{
		{ErrPermanent, 1},
		{errors.New("503"), 3},
	} {
		q := NewQueue(10)
		q.Backoff, q.Attempts, q.Workers = time.Millisecond, 3, 1
		startQueue(t, q)
		f := &flaky{failures: 100, err: tc.err, done: make(chan struct{})}
		q.Enqueue(Delivery{Name: "shop/n", Sender: f, Event: failedSync()})
		// A second delivery on the one worker ends after the first.
		last := &flaky{done: make(chan struct{})}
		q.Enqueue(Delivery{Name: "shop/m", Sender: last, Event: failedSync()})
		<-last.done
		if got := f.calls.Load(); got != tc.want {
			t.Errorf("%v: %d attempts, want %d", tc.err, got, tc.want)
		}
	}
}

// hung never answers until its context ends.
type hung struct{ started chan struct{} }

func (h hung) Send(ctx context.Context, _ Event) error {
	h.started <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

func TestAHungReceiverDoesNotGrowTheQueue(t *testing.T) {
	q := NewQueue(5)
	q.Workers, q.Timeout = 1, time.Hour
	startQueue(t, q)
	h := hung{started: make(chan struct{}, 100)}
	q.Enqueue(Delivery{Name: "shop/hung", Sender: h, Event: failedSync()})
	<-h.started
	accepted := 0
	for range 100 {
		if q.Enqueue(Delivery{Name: "shop/hung", Sender: h, Event: failedSync()}) {
			accepted++
		}
	}
	if accepted != 5 || q.Dropped() != 95 {
		t.Errorf("accepted %d and dropped %d of 100 behind a hung receiver, want 5 and 95", accepted, q.Dropped())
	}
}
