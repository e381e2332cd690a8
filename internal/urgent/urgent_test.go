package urgent

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// sent records the requests that reached the server's side of the Gate.
type sent chan *http.Request

func (s sent) RoundTrip(req *http.Request) (*http.Response, error) {
	s <- req
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
}

func request(t *testing.T, ctx context.Context, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// send sends req through rt in the background.
func send(rt http.RoundTripper, req *http.Request) {
	go func() { _, _ = rt.RoundTrip(req) }()
}

func arrives(t *testing.T, s sent, within time.Duration) *http.Request {
	t.Helper()
	select {
	case req := <-s:
		return req
	case <-time.After(within):
		t.Fatalf("no request reached the server within %s", within)
		return nil
	}
}

func staysBack(t *testing.T, s sent, during time.Duration) {
	t.Helper()
	select {
	case req := <-s:
		t.Fatalf("%s went while urgent work was under way", req.URL)
	case <-time.After(during):
	}
}

func TestRequestsGoAtOnceWithoutUrgentWork(t *testing.T) {
	s := make(sent, 1)
	rt := New(time.Hour).Wrap(s)
	send(rt, request(t, context.Background(), "https://api/api/v1/namespaces/a/configmaps/x"))
	arrives(t, s, 5*time.Second)
}

func TestWhatGoesWhileUrgentWorkIsUnderWay(t *testing.T) {
	tests := []struct {
		name   string
		url    string
		urgent bool
		goes   bool
	}{
		{"the urgent work's own request", "https://api/apis/apps/v1/namespaces/a/deployments/web", true, true},
		{"a watch", "https://api/api/v1/configmaps?watch=true", false, true},
		{"a routine request", "https://api/apis/apps/v1/namespaces/a/deployments/web", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := make(sent, 1)
			gate := New(time.Hour)
			rt := gate.Wrap(s)
			urgentCtx, end := gate.Begin(context.Background())
			defer end()
			ctx := context.Background()
			if tt.urgent {
				ctx = urgentCtx
			}
			send(rt, request(t, ctx, tt.url))
			if tt.goes {
				arrives(t, s, 5*time.Second)
			} else {
				staysBack(t, s, 100*time.Millisecond)
			}
		})
	}
}

func TestARoutineRequestGoesWhenTheUrgentWorkEnds(t *testing.T) {
	s := make(sent, 1)
	gate := New(time.Hour)
	rt := gate.Wrap(s)
	_, endFirst := gate.Begin(context.Background())
	_, endSecond := gate.Begin(context.Background())
	send(rt, request(t, context.Background(), "https://api/api/v1/namespaces/a/configmaps/x"))
	endFirst()
	endFirst() // ending twice counts once
	staysBack(t, s, 100*time.Millisecond)
	endSecond()
	arrives(t, s, 5*time.Second)
}

func TestARoutineRequestIsHeldForTheHoldAtMost(t *testing.T) {
	s := make(sent, 1)
	gate := New(50 * time.Millisecond)
	rt := gate.Wrap(s)
	_, end := gate.Begin(context.Background())
	defer end()
	send(rt, request(t, context.Background(), "https://api/api/v1/namespaces/a/configmaps/x"))
	arrives(t, s, 5*time.Second)
}

func TestARoutineRequestWhoseContextEndsIsNotHeld(t *testing.T) {
	s := make(sent, 1)
	gate := New(time.Hour)
	rt := gate.Wrap(s)
	_, end := gate.Begin(context.Background())
	defer end()
	ctx, cancel := context.WithCancel(context.Background())
	send(rt, request(t, ctx, "https://api/api/v1/namespaces/a/configmaps/x"))
	cancel()
	arrives(t, s, 5*time.Second)
}

func TestANilGateMakesNothingUrgent(t *testing.T) {
	var gate *Gate
	ctx, end := gate.Begin(context.Background())
	end()
	if ctx.Value(urgentKey{}) != nil {
		t.Error("a nil Gate marked the context urgent")
	}
}
