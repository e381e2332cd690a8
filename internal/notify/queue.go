package notify

import (
	"cmp"
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/util/wait"
)

// Defaults of a Queue.
const (
	// DefaultCapacity is how many deliveries may wait; more are dropped.
	DefaultCapacity = 1000
	// DefaultWorkers is how many deliveries run at once.
	DefaultWorkers = 4
	// DefaultAttempts is how many times a delivery is tried.
	DefaultAttempts = 5
	// DefaultTimeout bounds each attempt.
	DefaultTimeout = 10 * time.Second
)

// Sender delivers one Event to one receiver. An error wrapping
// ErrPermanent is not retried.
type Sender interface {
	Send(ctx context.Context, e Event) error
}

// ErrPermanent marks a failure that trying again cannot fix: the receiver
// refused the request (4xx other than 429), or the Event cannot be sent
// there.
var ErrPermanent = errors.New("not retried")

// Delivery is one Event for one Sender; Name names the Notification in
// logs.
type Delivery struct {
	Name   string
	Sender Sender
	Event  Event
}

// Queue delivers Events on its own workers, retrying failures with
// exponential backoff. Enqueue never blocks: when Capacity deliveries wait
// already, the new one is dropped and counted.
type Queue struct {
	// Workers, Attempts, Timeout and Backoff's first step default to
	// DefaultWorkers, DefaultAttempts, DefaultTimeout and one second.
	Workers  int
	Attempts int
	Timeout  time.Duration
	Backoff  time.Duration
	Log      logr.Logger

	ch      chan Delivery
	dropped atomic.Int64
}

// NewQueue returns a Queue holding at most capacity waiting deliveries.
func NewQueue(capacity int) *Queue {
	return &Queue{ch: make(chan Delivery, capacity)}
}

// Enqueue adds d, or drops it when the queue is full, and says which.
func (q *Queue) Enqueue(d Delivery) bool {
	select {
	case q.ch <- d:
		return true
	default:
		q.dropped.Add(1)
		q.Log.Info("notification dropped: the queue is full", "notification", d.Name, "reason", d.Event.Reason)
		return false
	}
}

// Dropped is how many deliveries Enqueue dropped.
func (q *Queue) Dropped() int64 { return q.dropped.Load() }

// Start runs the workers until ctx ends; it implements manager.Runnable.
func (q *Queue) Start(ctx context.Context) error {
	workers := q.Workers
	if workers <= 0 {
		workers = DefaultWorkers
	}
	done := make(chan struct{})
	for range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				select {
				case <-ctx.Done():
					return
				case d := <-q.ch:
					q.deliver(ctx, d)
				}
			}
		}()
	}
	for range workers {
		<-done
	}
	return nil
}

// NeedLeaderElection says that only the leader sends notifications.
func (q *Queue) NeedLeaderElection() bool { return true }

// deliver tries d until it succeeds, fails for good, or runs out of
// attempts.
func (q *Queue) deliver(ctx context.Context, d Delivery) {
	backoff := wait.Backoff{Duration: or(q.Backoff, time.Second), Factor: 2, Jitter: 0.1,
		Steps: max(q.Attempts, 0), Cap: time.Minute}
	if backoff.Steps == 0 {
		backoff.Steps = DefaultAttempts
	}
	var last error
	err := wait.ExponentialBackoffWithContext(ctx, backoff, func(ctx context.Context) (bool, error) {
		actx, cancel := context.WithTimeout(ctx, or(q.Timeout, DefaultTimeout))
		defer cancel()
		last = d.Sender.Send(actx, d.Event)
		if errors.Is(last, ErrPermanent) {
			return false, last
		}
		return last == nil, nil
	})
	if err != nil {
		q.Log.Error(cmp.Or(last, err), "notification not delivered", "notification", d.Name, "reason", d.Event.Reason,
			"object", d.Event.Namespace+"/"+d.Event.Name)
	}
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
