package e2e

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/controller"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// credentialsSecret is the Secret that the stories' Applications name in
// spec.source.secretRef.
const credentialsSecret = "git-credentials"

// privateHost serves a story's repository behind authentication, as a Git
// host does for a private repository.
type privateHost struct {
	url  string            // the repository's URL at the host
	good map[string][]byte // Secret data the host accepts
	bad  map[string][]byte // Secret data it rejects
}

// overHTTPS serves the story's repository with git http-backend over HTTPS,
// behind basic auth.
func overHTTPS(s *story) privateHost {
	const user, password = "weir-bot", "s3cret-pass-6f1c2a"
	root, name := filepath.Split(s.repo.Dir)
	srv := testenv.NewGitHTTPServer(s.t, root, user, password, true)
	return privateHost{
		url:  srv.URL(name),
		good: map[string][]byte{"username": []byte(user), "password": []byte(password)},
		bad:  map[string][]byte{"username": []byte(user), "password": []byte("wrong-pass-93be07")},
	}
}

// overSSH serves the story's repository over SSH to one deploy key.
func overSSH(s *story) privateHost {
	root, name := filepath.Split(s.repo.Dir)
	deployKey, identity := testenv.NewEd25519Key(s.t)
	_, otherIdentity := testenv.NewEd25519Key(s.t)
	hostKey, _ := testenv.NewEd25519Key(s.t)
	srv := testenv.NewGitSSHServer(s.t, root, deployKey.PublicKey(), hostKey)
	knownHosts := srv.KnownHosts(hostKey.PublicKey())
	return privateHost{
		url:  srv.URL(name),
		good: map[string][]byte{"identity": identity, "known_hosts": knownHosts},
		bad:  map[string][]byte{"identity": otherIdentity, "known_hosts": knownHosts},
	}
}

func TestCredentialsOverHTTPS(t *testing.T) { privateRepositorySyncs(t, overHTTPS) }

func TestCredentialsOverSSH(t *testing.T) { privateRepositorySyncs(t, overSSH) }

// privateRepositorySyncs: with the credentials in a Secret, an Application
// syncs a private repository and follows its new commits.
func privateRepositorySyncs(t *testing.T, serve func(*story) privateHost) {
	s := given(t, map[string]string{"greeting.yaml": fixture.ConfigMap("greeting", "text", "hello")})
	host := serve(s)
	s.secret(credentialsSecret, host.good)
	s.whenPrivateApplication(host.url)
	s.thenApplied(s.repo.Head())
	s.thenGreeting("hello")

	changed := s.commit("say goodbye", map[string]string{"greeting.yaml": fixture.ConfigMap("greeting", "text", "goodbye")})
	s.thenApplied(changed)
	s.thenGreeting("goodbye")
}

func TestWrongCredentialsLeaveTheClusterAsItWas(t *testing.T) {
	tests := []struct {
		name  string
		serve func(*story) privateHost
	}{
		{"HTTPS wrong password", overHTTPS},
		{"SSH wrong key", overSSH},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := given(t, map[string]string{"greeting.yaml": fixture.ConfigMap("greeting", "text", "hello")})
			host := tt.serve(s)
			s.secret(credentialsSecret, host.good)
			s.whenPrivateApplication(host.url)
			synced := s.thenApplied(s.repo.Head())

			// The credentials are rotated at the host but the Secret gets
			// wrong ones; meanwhile a teammate pushes a change.
			s.secret(credentialsSecret, host.bad)
			s.thenCondition(weirv1.ReadyCondition, metav1.ConditionFalse, controller.ReasonArtifactFailed)
			pushed := s.teammatePushes("say goodbye", "greeting.yaml", fixture.ConfigMap("greeting", "text", "goodbye"))
			app := s.thenFailedAfter(pushed)

			ready := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.ReadyCondition)
			if ready.Status != metav1.ConditionFalse || ready.Reason != controller.ReasonArtifactFailed {
				t.Errorf("Ready = %s/%s, want False/%s", ready.Status, ready.Reason, controller.ReasonArtifactFailed)
			}
			if !strings.Contains(ready.Message, "authentication failed") || !strings.Contains(ready.Message, host.url) {
				t.Errorf("Ready message %q does not say that authentication to %s failed", ready.Message, host.url)
			}
			if app.Status.LastAppliedRevision != synced.Status.LastAppliedRevision {
				t.Errorf("last applied revision = %q, want %q still", app.Status.LastAppliedRevision, synced.Status.LastAppliedRevision)
			}
			s.thenGreeting("hello")
			s.thenNoSecretShown(app, host.good, host.bad)
		})
	}
}

// secret creates or replaces the story's Secret name with data.
func (s *story) secret(name string, data map[string][]byte) {
	s.t.Helper()
	ctx := context.Background()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns}, Data: data}
	err := s.c.Create(ctx, secret)
	if apierrors.IsAlreadyExists(err) {
		err = s.c.Update(ctx, secret)
	}
	if err != nil {
		s.t.Fatalf("write Secret %s: %v", name, err)
	}
}

// whenPrivateApplication creates the Application reading url with the
// credentials in the story's Secret.
func (s *story) whenPrivateApplication(url string) *story {
	s.t.Helper()
	return s.whenApplication(func(spec *weirv1.ApplicationSpec) {
		spec.Source.URL = url
		spec.Source.SecretRef = &weirv1.LocalObjectReference{Name: credentialsSecret}
	})
}

// teammatePushes clones the story's repository over HTTPS with their own
// credentials, commits content at path and pushes it to main, returning the
// time of the push.
func (s *story) teammatePushes(message, path, content string) time.Time {
	s.t.Helper()
	const user, password = "teammate", "teammate-pass-0d5e"
	root, name := filepath.Split(s.repo.Dir)
	url := strings.Replace(testenv.NewGitHTTPServer(s.t, root, user, password, true).URL(name), "://", "://"+user+":"+password+"@", 1)
	clone := testenv.NewGitRepo(s.t)
	clone.Git("pull", "-q", url, "main")
	clone.Write(path, content)
	sha := clone.Commit(message)
	clone.Git("push", "-q", url, "HEAD:main")
	if got := s.repo.Head(); got != sha {
		s.t.Fatalf("after the push the repository is at %s, want %s", got, sha)
	}
	return time.Now()
}

// thenFailedAfter waits for a failed sync attempt that started after t, and
// returns the Application.
func (s *story) thenFailedAfter(t time.Time) *weirv1.Application {
	s.t.Helper()
	// Status times have whole seconds: one in a later second is surely later.
	after := metav1.NewTime(t.Truncate(time.Second).Add(time.Second))
	return s.waitFor("a failed attempt after "+t.Format(time.RFC3339), func(app *weirv1.Application) bool {
		h := app.Status.History
		return len(h) > 0 && h[0].Result == weirv1.SyncFailed && !h[0].StartedAt.Before(&after)
	})
}

// thenGreeting checks the text of the ConfigMap greeting.
func (s *story) thenGreeting(want string) {
	s.t.Helper()
	var cm corev1.ConfigMap
	s.get(&cm, "greeting")
	if got := cm.Data["text"]; got != want {
		s.t.Errorf("greeting = %q, want %q", got, want)
	}
}

// thenNoSecretShown checks that no password or private key from the Secret
// data appears in the Application's status, the namespace's events or the
// controller's logs.
func (s *story) thenNoSecretShown(app *weirv1.Application, data ...map[string][]byte) {
	s.t.Helper()
	status, err := json.Marshal(app.Status)
	if err != nil {
		s.t.Fatal(err)
	}
	var events corev1.EventList
	if err := s.c.List(context.Background(), &events, client.InNamespace(s.ns)); err != nil {
		s.t.Fatal(err)
	}
	eventText, err := json.Marshal(events)
	if err != nil {
		s.t.Fatal(err)
	}
	places := map[string]string{"status": string(status), "events": string(eventText), "controller logs": controllerLog.String()}
	for _, d := range data {
		for _, secret := range secretTexts(d) {
			for where, text := range places {
				if strings.Contains(text, secret) {
					s.t.Errorf("%s shows secret text %q", where, secret)
				}
			}
		}
	}
}

// secretTexts are the texts of the password and of each line of the
// private key in Secret data.
func secretTexts(data map[string][]byte) []string {
	var texts []string
	if p := string(data["password"]); p != "" {
		texts = append(texts, p)
	}
	for _, line := range strings.Split(string(data["identity"]), "\n") {
		if line != "" && !strings.HasPrefix(line, "-----") {
			texts = append(texts, line)
		}
	}
	return texts
}
