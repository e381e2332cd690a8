package notify

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// DefaultWindow is how long a Limiter holds back Events of a key after it
// let one through.
const DefaultWindow = 5 * time.Minute

// maxKeys bounds the keys a Limiter remembers; past it, the keys whose
// window ended are forgotten first.
const maxKeys = 10000

// Limiter lets one Event per key through in each window and counts the
// others, so that an Application failing a thousand times in a minute
// sends one message, and the next message after the window says how many
// were held back. Its methods are safe for concurrent use.
type Limiter struct {
	clock  clock.PassiveClock
	window time.Duration

	mu   sync.Mutex
	keys map[string]*limit
}

type limit struct {
	sent       time.Time
	suppressed int
}

// NewLimiter returns a Limiter with the given window, reading time from c.
func NewLimiter(c clock.PassiveClock, window time.Duration) *Limiter {
	return &Limiter{clock: c, window: window, keys: map[string]*limit{}}
}

// Allow says whether an Event of key goes out now and, when it does, how
// many of the key were held back since the last one sent.
func (l *Limiter) Allow(key string) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	k := l.keys[key]
	if k != nil && now.Sub(k.sent) < l.window {
		k.suppressed++
		return false, 0
	}
	if k == nil {
		if l.forgetOld(now); len(l.keys) >= maxKeys {
			return true, 0
		}
		k = &limit{}
		l.keys[key] = k
	}
	suppressed, k.sent, k.suppressed = k.suppressed, now, 0
	return true, suppressed
}

// forgetOld drops the keys whose window ended when the Limiter is full;
// what they held back is lost. While every key is within its window, a
// new key is let through unremembered.
func (l *Limiter) forgetOld(now time.Time) {
	if len(l.keys) < maxKeys {
		return
	}
	for key, k := range l.keys {
		if now.Sub(k.sent) >= l.window {
			delete(l.keys, key)
		}
	}
}
