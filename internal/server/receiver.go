package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/metrics"
)

// Limits of the receiver, so that requests nobody signed cannot take the
// controller's memory or connections.
const (
	// MaxPayloadBytes bounds a request body; a larger one is answered 413.
	// A push payload of a few commits is a few KiB, and only its ref and
	// repository are read.
	MaxPayloadBytes = 1 << 20
	// DefaultMaxConcurrent is how many requests are served at once unless
	// Config says otherwise; more wait up to SlotWait for their turn, and
	// are answered 503 if it does not come.
	DefaultMaxConcurrent = 8
	// SlotWait is how long a request waits for one of the MaxConcurrent
	// to end. A burst of pushes (a CI job pushing many repositories) is
	// served in turn, since each takes milliseconds; requests that stall
	// their bodies hold their turn for Timeout at most. A waiting request
	// has read only its header.
	SlotWait = 2 * time.Second
	// DefaultTimeout is how long a request may take to send its body and
	// be served unless Config says otherwise; a body still arriving then is
	// answered 408.
	DefaultTimeout = 10 * time.Second
)

// Refresher asks for an Application to be reconciled now.
type Refresher interface {
	Refresh(ctx context.Context, app *weirv1.Application) error
}

// Config is what a Receiver needs.
type Config struct {
	// Applications lists Applications; it must have the index that
	// IndexApplications adds (the manager's cached client has).
	Applications client.Reader
	// Secrets reads the webhook Secrets (weir does not cache Secrets).
	Secrets client.Reader
	// Secret names the Secret whose "token" key is the shared secret.
	Secret client.ObjectKey
	// SecretTTL is how long a token (the shared one, and each of those
	// Applications name in spec.source.webhookSecretRef) is cached; zero
	// means ten seconds.
	SecretTTL time.Duration
	// Refresher refreshes the Applications a push matches.
	Refresher Refresher
	// Invalidate, when set, is told the spec.source.url of each
	// Application before it is refreshed, so that what was listed of its
	// repository before the push is not taken for its state.
	Invalidate func(url string)
	// Metrics, when set, counts requests by provider and outcome.
	Metrics *metrics.Recorder
	// Log receives a line per push.
	Log logr.Logger
	// MaxConcurrent bounds the requests served at once; zero means
	// DefaultMaxConcurrent.
	MaxConcurrent int
	// Timeout bounds the time a request takes to send its body and be
	// served; zero means DefaultTimeout.
	Timeout time.Duration
}

// Receiver is the http.Handler of push webhooks, one path per provider.
type Receiver struct {
	cfg    Config
	secret *secretCache
	// tenants reads the Secrets of Applications' webhookSecretRef.
	tenants *tenantSecrets
	mux     *http.ServeMux
	// slots holds a token per request being served.
	slots chan struct{}
}

// NewReceiver returns a Receiver serving /hooks/<provider>.
func NewReceiver(cfg Config) *Receiver {
	ttl := cfg.SecretTTL
	if ttl <= 0 {
		ttl = 10 * time.Second
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	rc := &Receiver{
		cfg:    cfg,
		secret: &secretCache{reader: cfg.Secrets, key: cfg.Secret, ttl: ttl, now: time.Now},
		tenants: &tenantSecrets{reader: cfg.Secrets, ttl: ttl, now: time.Now,
			caches: map[client.ObjectKey]*secretCache{}},
		mux:   http.NewServeMux(),
		slots: make(chan struct{}, cfg.MaxConcurrent),
	}
	for _, p := range providers() {
		rc.mux.Handle("/hooks/"+p.name, rc.handler(p))
	}
	return rc
}

// ServeHTTP answers a webhook: 202 with the refreshed Applications, 200
// for an event that is no push, 401 when neither the shared secret nor the
// webhookSecretRef of an Application tracking the push is proven (without
// reading the body when no signature or token header is present), 400 for
// a malformed payload, 413 for a body over MaxPayloadBytes, 408 for a body
// that does not arrive in time, and 503 when MaxConcurrent requests were
// being served throughout SlotWait.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rc.mux.ServeHTTP(w, req)
}

// Response is the JSON body of every answer.
type Response struct {
	// Outcome is accepted, ignored, unauthorized, bad_request, throttled or
	// error.
	Outcome string `json:"outcome"`
	// Message says why a request was not accepted.
	Message string `json:"message,omitempty"`
	// Refreshed lists the Applications refreshed, as namespace/name.
	Refreshed []string `json:"refreshed,omitempty"`
}

func (rc *Receiver) handler(p provider) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		status, resp := http.StatusServiceUnavailable, reject(metrics.OutcomeThrottled, "too many webhook requests at once")
		if rc.takeSlot(req.Context()) {
			status, resp = rc.receive(w, req, p)
			<-rc.slots
		} else {
			w.Header().Set("Retry-After", "1")
		}
		rc.cfg.Metrics.WebhookRequest(p.name, resp.Outcome)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(resp)
	})
}

// takeSlot waits up to SlotWait for one of the MaxConcurrent requests to
// end, and reports whether the request may be served.
func (rc *Receiver) takeSlot(ctx context.Context) bool {
	timer := time.NewTimer(SlotWait)
	defer timer.Stop()
	select {
	case rc.slots <- struct{}{}:
		return true
	case <-timer.C:
	case <-ctx.Done():
	}
	return false
}

// receive checks, reads and acts on one request, within the Timeout.
func (rc *Receiver) receive(w http.ResponseWriter, req *http.Request, p provider) (int, Response) {
	if req.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, reject(metrics.OutcomeBadRequest, "only POST is accepted")
	}
	if !p.carriesProof(req.Header) {
		return http.StatusUnauthorized, reject(metrics.OutcomeUnauthorized, fmt.Sprintf("%s: no %s header", errUnauthorized, strings.Join(p.proofs, " or ")))
	}
	ctx, cancel := context.WithTimeout(req.Context(), rc.cfg.Timeout)
	defer cancel()
	body, status, err := rc.readBody(w, req)
	if err != nil {
		return status, reject(metrics.OutcomeBadRequest, err.Error())
	}
	push, apps, status, resp := rc.authorize(ctx, p, req, body)
	if status != 0 {
		return status, resp
	}
	refreshed, err := rc.refresh(ctx, apps)
	rc.cfg.Log.Info("push received", "provider", p.name, "repository", push.keys(), "ref", push.Ref, "refreshed", refreshed)
	if err != nil {
		rc.cfg.Log.Error(err, "refresh failed", "provider", p.name, "ref", push.Ref)
		return http.StatusInternalServerError, Response{Outcome: metrics.OutcomeError, Message: err.Error(), Refreshed: refreshed}
	}
	return http.StatusAccepted, Response{Outcome: metrics.OutcomeAccepted, Refreshed: refreshed}
}

// authorize reads the push of a request and the Applications it may
// refresh: proven with the controller's secret, every Application of the
// pushed repository that tracks the pushed ref; otherwise those of them
// whose webhookSecretRef names a Secret that proves it. A request that
// proves neither gets a status (401) and refreshes nothing, and nothing of
// its payload is told. A zero status lets the push through.
func (rc *Receiver) authorize(ctx context.Context, p provider, req *http.Request, body []byte) (Push, []*weirv1.Application, int, Response) {
	global, globalErr := rc.secret.get(ctx)
	verifyErr := globalErr
	if globalErr != nil {
		rc.cfg.Log.Error(globalErr, "cannot verify webhooks with the controller's secret", "provider", p.name)
	} else {
		verifyErr = p.verify(req.Header, body, global)
	}
	push, err := p.parse(req.Header, body)
	switch {
	case verifyErr == nil && errors.Is(err, errNotPush):
		return push, nil, http.StatusOK, reject(metrics.OutcomeIgnored, err.Error())
	case verifyErr == nil && err != nil:
		return push, nil, http.StatusBadRequest, reject(metrics.OutcomeBadRequest, err.Error())
	case err != nil:
		status, resp := rc.refused(p, req, verifyErr, globalErr, nil)
		return push, nil, status, resp
	}
	apps, err := rc.matching(ctx, push)
	if err != nil {
		rc.cfg.Log.Error(err, "cannot find the Applications of a push", "provider", p.name)
		return push, nil, http.StatusInternalServerError, reject(metrics.OutcomeError, err.Error())
	}
	if verifyErr == nil {
		return push, apps, 0, Response{}
	}
	trusted, tried := rc.trusting(ctx, p, req.Header, body, apps)
	if len(trusted) == 0 {
		status, resp := rc.refused(p, req, verifyErr, globalErr, tried)
		return push, nil, status, resp
	}
	return push, trusted, 0, Response{}
}

// refused answers a request that no secret proved and logs why, naming the
// Secrets tried, never their values. When the controller's secret could
// not be read and no Application's was tried, the fault is weir's: 500.
func (rc *Receiver) refused(p provider, req *http.Request, verifyErr, globalErr error, tried []string) (int, Response) {
	if globalErr != nil && len(tried) == 0 {
		return http.StatusInternalServerError, reject(metrics.OutcomeError, "the webhook secret cannot be read")
	}
	msg := verifyErr.Error()
	if globalErr != nil {
		msg = errUnauthorized.Error() + ": the webhook secret cannot be read"
	}
	if len(tried) > 0 {
		msg += ", and no webhookSecretRef of an Application tracking the pushed ref proves the request"
	}
	rc.cfg.Log.Info("webhook refused", "provider", p.name, "remote", req.RemoteAddr, "reason", msg, "secretsTried", tried)
	return http.StatusUnauthorized, reject(metrics.OutcomeUnauthorized, msg)
}

func reject(outcome, msg string) Response { return Response{Outcome: outcome, Message: msg} }

// readBody reads the body of req, at most MaxPayloadBytes of it and until
// the Timeout from now, and gives the status that answers a failure.
func (rc *Receiver) readBody(w http.ResponseWriter, req *http.Request) ([]byte, int, error) {
	if req.ContentLength > MaxPayloadBytes {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("the body of %d bytes exceeds the limit of %d", req.ContentLength, MaxPayloadBytes)
	}
	// A recorder in tests cannot set deadlines; a server always can.
	if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(rc.cfg.Timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return nil, http.StatusInternalServerError, fmt.Errorf("bound the time to read the body: %w", err)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, MaxPayloadBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("the body exceeds the limit of %d bytes", MaxPayloadBytes)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, http.StatusRequestTimeout, fmt.Errorf("the body did not arrive within %s", rc.cfg.Timeout)
	case err != nil:
		return nil, http.StatusBadRequest, fmt.Errorf("read the body: %w", err)
	}
	return body, 0, nil
}

// refresh refreshes apps and returns their names, sorted.
func (rc *Receiver) refresh(ctx context.Context, apps []*weirv1.Application) ([]string, error) {
	refreshed := []string{}
	var errs []error
	for _, app := range apps {
		if rc.cfg.Invalidate != nil {
			rc.cfg.Invalidate(app.Spec.Source.URL)
		}
		if err := rc.cfg.Refresher.Refresh(ctx, app); err != nil {
			errs = append(errs, err)
			continue
		}
		refreshed = append(refreshed, app.Namespace+"/"+app.Name)
	}
	slices.Sort(refreshed)
	return refreshed, errors.Join(errs...)
}

// matching lists the Applications of the pushed repository that track its
// ref.
func (rc *Receiver) matching(ctx context.Context, push Push) ([]*weirv1.Application, error) {
	var apps []*weirv1.Application
	for _, key := range push.keys() {
		var list weirv1.ApplicationList
		if err := rc.cfg.Applications.List(ctx, &list, client.MatchingFields{sourceIndex: key}); err != nil {
			return nil, fmt.Errorf("list the Applications of %s: %w", key, err)
		}
		for i := range list.Items {
			if tracks(&list.Items[i], push.Ref) {
				apps = append(apps, &list.Items[i])
			}
		}
	}
	return apps, nil
}
