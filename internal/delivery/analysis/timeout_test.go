package analysis

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"weir.dev/weir/internal/testenv"
)

func TestMeasureTimeoutIsBounded(t *testing.T) {
	tests := []struct {
		set, want time.Duration
	}{
		{0, defaultWebTimeout},
		{-time.Second, defaultWebTimeout},
		{5 * time.Second, 5 * time.Second},
		{87600 * time.Hour, maxMeasureTimeout},
	}
	for _, tt := range tests {
		if got := measureTimeout(tt.set, defaultWebTimeout); got != tt.want {
			t.Errorf("measureTimeout(%v) = %v, want %v", tt.set, got, tt.want)
		}
	}
}

func TestWebMetricFromSilentServerTimesOut(t *testing.T) {
	url := "http://" + testenv.NewSilentServer(t).Addr() + "/stats"
	w := newWebProvider(nil, &http.Client{})
	done := make(chan error, 1)
	go func() {
		_, err := w.fetch(context.Background(), "", url, "", http.Header{}, 200*time.Millisecond)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "deadline exceeded") {
			t.Errorf("error = %v, want a timeout naming %s", err, url)
		}
	case <-time.After(time.Minute):
		t.Fatal("the request still runs after a minute")
	}
}
