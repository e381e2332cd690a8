package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/notify"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// webhookReceiver records the Events posted to it whose signature checks
// out with key.
type webhookReceiver struct {
	mu     sync.Mutex
	events []notify.Event
	bad    int
}

func (w *webhookReceiver) serve(t *testing.T, key []byte) string {
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var e notify.Event
		w.mu.Lock()
		defer w.mu.Unlock()
		if r.Header.Get(notify.SignatureHeader) != notify.Sign(key, body) || json.Unmarshal(body, &e) != nil {
			w.bad++
			rw.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.events = append(w.events, e)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// reasons are the reasons of the Events received so far.
func (w *webhookReceiver) reasons() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var rs []string
	for _, e := range w.events {
		rs = append(rs, e.Reason)
	}
	return rs
}

// hungReceiver accepts requests and never answers them until the test
// ends; it counts those it holds.
func hungReceiver(t *testing.T) (string, func() int) {
	release := make(chan struct{})
	var mu sync.Mutex
	held := 0
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		mu.Lock()
		held++
		mu.Unlock()
		<-release
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: the server closes without waiting
	return srv.URL, func() int { mu.Lock(); defer mu.Unlock(); return held }
}

func (s *story) notification(name string, spec weirv1.NotificationSpec) {
	s.t.Helper()
	n := &weirv1.Notification{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: name}, Spec: spec}
	if err := s.c.Create(context.Background(), n); err != nil {
		s.t.Fatalf("create Notification %s: %v", name, err)
	}
}

func TestSyncsAreNotifiedToAWebhookAndAlertmanagerPastAHungReceiver(t *testing.T) {
	alertmanager := testenv.StartAlertmanager(t)
	key := []byte("e2e-hmac-key-5c1f")
	hook := &webhookReceiver{}
	hookURL := hook.serve(t, key)
	hungURL, held := hungReceiver(t)

	s := given(t, map[string]string{"web.yaml": fixture.Deployment("web", 1, "nginx:1.27")})
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "hook"},
		Data: map[string][]byte{notify.KeyAddress: []byte(hookURL), notify.KeyHMACKey: key}}
	if err := s.c.Create(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	s.notification("hung", weirv1.NotificationSpec{Provider: weirv1.ProviderWebhook, Address: hungURL})
	s.notification("hook", weirv1.NotificationSpec{Provider: weirv1.ProviderWebhook, SecretRef: &weirv1.LocalObjectReference{Name: "hook"},
		Applications: []string{"shop"}})
	s.notification("alerts", weirv1.NotificationSpec{Provider: weirv1.ProviderAlertmanager, Address: alertmanager,
		Severity: weirv1.SeverityError})

	good := s.repo.Head()
	s.whenApplication(nil).thenApplied(good)
	waitForReasons(t, hook, "Succeeded")

	s.commit("an invalid replica count", map[string]string{"web.yaml": fixture.Deployment("web", -1, "nginx:1.27")})
	s.thenCondition(weirv1.ReadyCondition, metav1.ConditionFalse, "ValidationFailed")
	waitForReasons(t, hook, "Succeeded", "ValidationFailed")
	alert := waitForAlert(t, alertmanager, s.ns)
	if alert.Labels["alertname"] != "WeirValidationFailed" || alert.Labels["severity"] != weirv1.SeverityError ||
		!strings.Contains(alert.Annotations["description"], "replicas") {
		t.Errorf("Alertmanager holds %+v, want the failed sync", alert)
	}

	// The hung receiver still holds its requests, and syncs go on.
	fixed := s.commit("replicas back", map[string]string{"web.yaml": fixture.Deployment("web", 2, "nginx:1.27")})
	s.thenApplied(fixed)
	if held() == 0 {
		t.Error("the hung receiver got no request")
	}
	hook.mu.Lock()
	defer hook.mu.Unlock()
	if hook.bad != 0 {
		t.Errorf("%d webhook requests had no valid signature", hook.bad)
	}
}

func waitForReasons(t *testing.T, hook *webhookReceiver, want ...string) {
	t.Helper()
	testenv.Eventually(t, time.Minute, fmt.Sprintf("the webhook to receive %v", want), func(context.Context) error {
		got := hook.reasons()
		for _, r := range want {
			if !strings.Contains(strings.Join(got, ","), r) {
				return fmt.Errorf("received %v", got)
			}
		}
		return nil
	})
}

// alert is an alert as Alertmanager's API gives it.
type alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// waitForAlert waits until Alertmanager holds an alert of namespace.
func waitForAlert(t *testing.T, base, namespace string) alert {
	t.Helper()
	var found alert
	testenv.Eventually(t, time.Minute, "an alert in Alertmanager", func(ctx context.Context) error {
		q := url.Values{"filter": {fmt.Sprintf("namespace=%q", namespace)}}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v2/alerts?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var alerts []alert
		if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil {
			return err
		}
		if len(alerts) == 0 {
			return fmt.Errorf("no alert of namespace %s", namespace)
		}
		found = alerts[0]
		return nil
	})
	return found
}

// TestARolloutsEventsReachAReceiver: a release goes step by step to its
// promotion, the next is aborted by hand and reverted in Git, and a
// webhook receives each of these as weir records it: the rollout started,
// the step reached, the promotion, the abort and the revert pushed.
func TestARolloutsEventsReachAReceiver(t *testing.T) {
	key := []byte("e2e-hmac-key-9a2e")
	hook := &webhookReceiver{}
	s := given(t, map[string]string{
		"web.yaml":     fixture.Deployment("web", 4, "shop:v1"),
		"svc.yaml":     fixture.Service("web"),
		"rollout.yaml": canaryRollout("      - setWeight: 50\n      - pause: {}\n", "", true),
	})
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "hook"},
		Data: map[string][]byte{notify.KeyAddress: []byte(hook.serve(t, key)), notify.KeyHMACKey: key}}
	if err := s.c.Create(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	s.notification("hook", weirv1.NotificationSpec{Provider: weirv1.ProviderWebhook, SecretRef: &weirv1.LocalObjectReference{Name: "hook"},
		Applications: []string{"shop"}})
	s.allowPush()
	s.whenApplication(nil)
	s.thenRunning("shop:v1")

	good := s.commit("release v2", map[string]string{"web.yaml": fixture.Deployment("web", 4, "shop:v2")})
	s.thenPausedAt(1, 50)
	step := hook.await(t, "Rollout", "StepReached")
	if !containsAll(step.Message, good, "step 1 of 2", "50% of traffic") || step.Application != "shop" || step.Severity != weirv1.SeverityInfo {
		t.Errorf("StepReached sent as %+v", step)
	}
	if started := hook.await(t, "Rollout", "Progressing"); !strings.Contains(started.Message, good) {
		t.Errorf("Progressing sent as %+v", started)
	}
	s.request(weirv1.PromoteAnnotation)
	s.thenIdle("shop:v2")
	hook.await(t, "Rollout", "Promoted")

	bad := s.commit("release v3", map[string]string{"web.yaml": fixture.Deployment("web", 4, "shop:v3")})
	s.thenPausedAt(1, 50)
	s.request(weirv1.AbortAnnotation)
	if aborted := hook.await(t, "Rollout", "Aborted"); !strings.Contains(aborted.Message, bad) || aborted.Severity != weirv1.SeverityError {
		t.Errorf("Aborted sent as %+v", aborted)
	}
	if reverted := hook.await(t, "Rollout", "Reverted"); !containsAll(reverted.Message, bad[:12]) {
		t.Errorf("Reverted sent as %+v", reverted)
	}
}

// await waits until the receiver holds an Event of kind with reason, and
// returns the first.
func (w *webhookReceiver) await(t *testing.T, kind, reason string) notify.Event {
	t.Helper()
	var found notify.Event
	testenv.Eventually(t, time.Minute, fmt.Sprintf("the webhook to receive %s of a %s", reason, kind), func(context.Context) error {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, e := range w.events {
			if e.Kind == kind && e.Reason == reason {
				found = e
				return nil
			}
		}
		return fmt.Errorf("received %d events", len(w.events))
	})
	return found
}

// TestDriftIsNotifiedToAReceiver: kubectl scales a Deployment that weir
// manages with self-heal, and a webhook hears the drift, naming who made
// it, then its correction.
func TestDriftIsNotifiedToAReceiver(t *testing.T) {
	key := []byte("e2e-hmac-key-drift")
	hook := &webhookReceiver{}
	s := given(t, driftFiles)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "hook"},
		Data: map[string][]byte{notify.KeyAddress: []byte(hook.serve(t, key)), notify.KeyHMACKey: key}}
	if err := s.c.Create(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	s.notification("hook", weirv1.NotificationSpec{Provider: weirv1.ProviderWebhook, SecretRef: &weirv1.LocalObjectReference{Name: "hook"},
		Applications: []string{"shop"}})
	s.whenApplication(watchOnly(true))
	s.thenApplied(s.repo.Head())

	s.kubectl(nil, "scale", "deployment/web", "--replicas=5")
	if e := hook.await(t, "Application", "DriftDetected"); !containsAll(e.Message, "Deployment "+s.ns+"/web", ".spec.replicas changed by kubectl") || e.Severity != weirv1.SeverityError {
		t.Errorf("DriftDetected sent as %+v", e)
	}
	if e := hook.await(t, "Application", "DriftCorrected"); !strings.Contains(e.Message, "Re-applied revision") {
		t.Errorf("DriftCorrected sent as %+v", e)
	}
}
