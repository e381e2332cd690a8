package notify

import (
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

func TestAFlappingKeySendsOncePerWindowThenTheCount(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(time.Date(2026, 12, 4, 22, 0, 0, 0, time.UTC))
	l := NewLimiter(clk, 5*time.Minute)
	type step struct {
		after          time.Duration
		key            string
		ok             bool
		suppressedWant int
	}
	for i, s := range []step{
		{0, "shop/web/ApplyFailed", true, 0},
		{time.Second, "shop/web/ApplyFailed", false, 0},
		{time.Second, "shop/api/ApplyFailed", true, 0}, // another key is not held back
		{time.Minute, "shop/web/ApplyFailed", false, 0},
		{4 * time.Minute, "shop/web/ApplyFailed", true, 2}, // window over: the count of those held back
		{time.Second, "shop/web/ApplyFailed", false, 0},
		{10 * time.Minute, "shop/web/ApplyFailed", true, 1},
		{10 * time.Minute, "shop/web/ApplyFailed", true, 0},
	} {
		clk.SetTime(clk.Now().Add(s.after))
		ok, suppressed := l.Allow(s.key)
		if ok != s.ok || suppressed != s.suppressedWant {
			t.Errorf("step %d (%s): Allow = %v, %d; want %v, %d", i, s.key, ok, suppressed, s.ok, s.suppressedWant)
		}
	}
}

func TestAThousandFailuresSendOne(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(time.Now())
	l := NewLimiter(clk, DefaultWindow)
	sent := 0
	for range 1000 {
		clk.SetTime(clk.Now().Add(100 * time.Millisecond))
		if ok, _ := l.Allow("shop/web/ApplyFailed"); ok {
			sent++
		}
	}
	if sent != 1 {
		t.Errorf("1000 failures in 100 s sent %d messages, want 1", sent)
	}
}

func TestTheLimiterForgetsEndedWindowsWhenFull(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(time.Now())
	l := NewLimiter(clk, time.Minute)
	for i := range maxKeys {
		l.Allow(string(rune(i)))
	}
	clk.SetTime(clk.Now().Add(time.Minute))
	l.Allow("new")
	if len(l.keys) != 1 {
		t.Errorf("the Limiter holds %d keys after their windows ended, want 1", len(l.keys))
	}
}
