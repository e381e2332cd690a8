package scale

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

// weir is the `weir controller` process the scenario measures, its apps
// Applications named app, sent weir's generic push webhook.
type weir struct {
	*controller
	c     client.Client
	git   *testenv.GitHTTPServer
	token string
}

// startWeir starts `weir controller` with a webhook token in a Secret of
// its own namespace.
func startWeir(b *bench) *weir {
	w := &weir{c: b.c, git: b.git, token: "scale-token"}
	ns := testenv.Namespace(b.t)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "webhook"}, StringData: map[string]string{"token": w.token}}
	if err := b.c.Create(context.Background(), secret); err != nil {
		b.t.Fatal(err)
	}
	w.controller = startController(b.t, ns+"/webhook")
	return w
}

// deploy creates an Application of repo's path polling every interval and
// healing drift.
func (w *weir) deploy(ctx context.Context, repo *testenv.GitRepo, path, ns string, interval time.Duration) error {
	app := &weirv1.Application{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"},
		Spec: weirv1.ApplicationSpec{
			Source: weirv1.GitSource{URL: w.git.URL(filepath.Base(repo.Dir)), Path: path},
			Sync:   weirv1.SyncPolicy{Interval: &metav1.Duration{Duration: interval}, SelfHeal: true},
		},
	}
	if err := w.c.Create(ctx, app); err != nil {
		return fmt.Errorf("create Application %s/app: %w", ns, err)
	}
	return nil
}

// applied checks that the Application of ns applied sha and is Ready.
func (w *weir) applied(ctx context.Context, ns, sha string) error {
	live := &weirv1.Application{}
	if err := w.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, live); err != nil {
		return err
	}
	if !strings.HasSuffix(live.Status.LastAppliedRevision, sha) || !apimeta.IsStatusConditionTrue(live.Status.Conditions, weirv1.ReadyCondition) {
		return fmt.Errorf("Application %s/app is at %q", ns, live.Status.LastAppliedRevision)
	}
	return nil
}

// notify sends the controller weir's generic push webhook for repo's main.
func (w *weir) notify(ctx context.Context, repo *testenv.GitRepo) error {
	body, err := json.Marshal(map[string]string{"repository": w.git.URL(filepath.Base(repo.Dir)), "ref": "refs/heads/main"})
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, []byte(w.token))
	mac.Write(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.webhookURL+"/hooks/generic", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-Weir-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("post the webhook: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusAccepted {
		return fmt.Errorf("the webhook answered %s", res.Status)
	}
	return nil
}
