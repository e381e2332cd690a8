package multicluster

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/cli"
	"weir.dev/weir/internal/localcluster"
	"weir.dev/weir/internal/testenv"
)

// remoteStory is one user's Application that syncs a Git repository to a
// remote cluster, into a namespace of the same name as the Application's.
type remoteStory struct {
	t      testing.TB
	repo   *testenv.GitRepo
	ns     string
	local  client.Client // weir's cluster
	remote client.Client // the destination
	app    *weirv1.Application
}

// givenRemote starts a story with a repository holding files, and remote
// registered in a new namespace as the cluster Secret "remote", with that
// namespace created on remote too.
func givenRemote(t testing.TB, remote *localcluster.Cluster, files map[string]string) *remoteStory {
	t.Helper()
	s := &remoteStory{t: t, repo: testenv.NewGitRepo(t), ns: testenv.Namespace(t),
		local: testenv.Client(t, weirv1.AddToScheme), remote: remoteClient(t, remote)}
	registerCluster(t, s.ns, "remote", remote, nil)
	createRemoteNamespace(t, s.remote, s.ns)
	s.commit("initial", files)
	return s
}

// commit writes files (an empty content removes the file) and commits.
func (s *remoteStory) commit(message string, files map[string]string) string {
	s.t.Helper()
	return s.repo.CommitFiles(message, files)
}

// givenLocal starts a story with a repository holding files, for an
// Application of weir's own cluster.
func givenLocal(t testing.TB, files map[string]string) *remoteStory {
	t.Helper()
	c := testenv.Client(t, weirv1.AddToScheme)
	s := &remoteStory{t: t, repo: testenv.NewGitRepo(t), ns: testenv.Namespace(t), local: c, remote: c}
	s.commit("initial", files)
	return s
}

// whenApplication creates the Application "shop", which syncs every
// second to the cluster of Secret cluster, or to weir's own for "";
// edit adjusts its spec.
func (s *remoteStory) whenApplication(cluster string, edit func(*weirv1.ApplicationSpec)) *remoteStory {
	s.t.Helper()
	s.app = &weirv1.Application{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: s.ns},
		Spec: weirv1.ApplicationSpec{
			Source: weirv1.GitSource{URL: s.repo.URL()},
			Sync:   weirv1.SyncPolicy{Interval: &metav1.Duration{Duration: time.Second}, Timeout: &metav1.Duration{Duration: 20 * time.Second}},
		},
	}
	if cluster != "" {
		s.app.Spec.Destination.Cluster = &weirv1.ClusterReference{SecretRef: weirv1.LocalObjectReference{Name: cluster}}
	}
	if edit != nil {
		edit(&s.app.Spec)
	}
	if err := s.local.Create(s.t.Context(), s.app); err != nil {
		s.t.Fatalf("create Application: %v", err)
	}
	return s
}

// thenApplied waits until the Application is Ready at commit sha.
func (s *remoteStory) thenApplied(sha string, within time.Duration) *weirv1.Application {
	s.t.Helper()
	return s.waitFor("Ready at "+sha, within, func(app *weirv1.Application) bool {
		return strings.HasSuffix(app.Status.LastAppliedRevision, sha) &&
			apimeta.IsStatusConditionTrue(app.Status.Conditions, weirv1.ReadyCondition)
	})
}

// thenCondition waits until a condition has the given status and reason.
func (s *remoteStory) thenCondition(typ string, status metav1.ConditionStatus, reason string) *weirv1.Application {
	s.t.Helper()
	return s.waitFor(fmt.Sprintf("%s=%s (%s)", typ, status, reason), time.Minute, func(app *weirv1.Application) bool {
		c := apimeta.FindStatusCondition(app.Status.Conditions, typ)
		return c != nil && c.Status == status && c.Reason == reason
	})
}

func (s *remoteStory) waitFor(what string, within time.Duration, ok func(*weirv1.Application) bool) *weirv1.Application {
	s.t.Helper()
	app := &weirv1.Application{}
	testenv.Eventually(s.t, within, "Application "+what, func(ctx context.Context) error {
		if err := s.local.Get(ctx, client.ObjectKeyFromObject(s.app), app); err != nil {
			return err
		}
		if !ok(app) {
			var conds []string
			for _, c := range app.Status.Conditions {
				conds = append(conds, fmt.Sprintf("%s=%s/%s: %s", c.Type, c.Status, c.Reason, c.Message))
			}
			return fmt.Errorf("status: revision %q, conditions %v", app.Status.LastAppliedRevision, conds)
		}
		return nil
	})
	return app
}

// remoteConfigMap waits until the ConfigMap name on the remote cluster
// has data key = value.
func (s *remoteStory) remoteConfigMap(name, key, value string) {
	s.t.Helper()
	testenv.Eventually(s.t, 30*time.Second, "ConfigMap "+name+" on the remote cluster", func(ctx context.Context) error {
		var cm corev1.ConfigMap
		if err := s.remote.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: name}, &cm); err != nil {
			return err
		}
		if cm.Data[key] != value {
			return fmt.Errorf("%s = %q, want %q", key, cm.Data[key], value)
		}
		return nil
	})
}

// conditionMessage is the message of app's condition typ, or "".
func conditionMessage(app *weirv1.Application, typ string) string {
	if c := apimeta.FindStatusCondition(app.Status.Conditions, typ); c != nil {
		return c.Message
	}
	return ""
}

// checkNoCredentialShown fails if the client key or certificate of
// remote's kubeconfig shows in the Application's status, the namespace's
// events or the controller's log.
func (s *remoteStory) checkNoCredentialShown(remote *localcluster.Cluster) {
	s.t.Helper()
	app := &weirv1.Application{}
	if err := s.local.Get(s.t.Context(), client.ObjectKeyFromObject(s.app), app); err != nil {
		s.t.Fatal(err)
	}
	var events corev1.EventList
	if err := s.local.List(s.t.Context(), &events, client.InNamespace(s.ns)); err != nil {
		s.t.Fatal(err)
	}
	status, _ := json.Marshal(app.Status)
	eventText, _ := json.Marshal(events)
	texts := map[string]string{"status": string(status), "events": string(eventText), "controller log": controllerLog.String()}
	for _, file := range []string{remote.Config.KeyFile, remote.Config.CertFile} {
		data, err := os.ReadFile(file)
		if err != nil {
			s.t.Fatal(err)
		}
		encoded := base64.StdEncoding.EncodeToString(data)
		// One line of the PEM body, and of its base64 as the Secret holds it.
		secrets := []string{strings.Split(string(data), "\n")[1], encoded[40:100]}
		for where, text := range texts {
			for _, v := range secrets {
				if strings.Contains(text, v) {
					s.t.Errorf("%s shows a credential of the kubeconfig", where)
				}
			}
		}
	}
}

// weir runs the command line against weir's cluster in the story's
// namespace and returns what it printed, failing the test on an error.
func (s *remoteStory) weir(args ...string) string {
	s.t.Helper()
	var stdout, stderr bytes.Buffer
	args = append([]string{"--kubeconfig", testenv.Cluster(s.t).Kubeconfig, "-n", s.ns}, args...)
	if code := cli.Execute(s.t.Context(), args, &stdout, &stderr); code != 0 {
		s.t.Fatalf("weir %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
	return stdout.String()
}

// conditionStatus is the status of app's condition typ, or Unknown.
func conditionStatus(app *weirv1.Application, typ string) metav1.ConditionStatus {
	if c := apimeta.FindStatusCondition(app.Status.Conditions, typ); c != nil {
		return c.Status
	}
	return metav1.ConditionUnknown
}

// createRemoteNamespace creates namespace ns on a remote cluster, deleted
// when the test ends.
func createRemoteNamespace(tb testing.TB, c client.Client, ns string) {
	tb.Helper()
	obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	if err := c.Create(tb.Context(), obj); err != nil {
		tb.Fatalf("create namespace %s on a remote cluster: %v", ns, err)
	}
	tb.Cleanup(func() { _ = c.Delete(context.Background(), obj) })
}
