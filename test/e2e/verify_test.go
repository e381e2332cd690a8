package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/controller"
	"weir.dev/weir/internal/testenv"
	"weir.dev/weir/test/fixture"
)

// trustedKeys is the Secret that verifying stories' Applications name in
// spec.source.verify.
const trustedKeys = "trusted-keys"

// TestOnlyCommitsSignedByATrustedKeyAreApplied tells the story with
// OpenPGP signatures on a repository reached by file://, and with SSH
// signatures on one served over SSH.
func TestOnlyCommitsSignedByATrustedKeyAreApplied(t *testing.T) {
	for _, kind := range []struct {
		name  string
		key   func(testing.TB, string) *testenv.SigningKey
		serve func(*story) privateHost // nil for file://
	}{
		{"OpenPGP", testenv.NewGPGKey, nil},
		{"SSH", testenv.NewSSHSigningKey, overSSH},
	} {
		t.Run(kind.name, func(t *testing.T) {
			ada, mallory := kind.key(t, "ada@example.com"), kind.key(t, "mallory@example.com")
			s := given(t, map[string]string{"settings.yaml": fixture.ConfigMap("settings", "mode", "safe")})
			signed := s.repo.CommitSigned("sign the initial settings", ada)
			s.secret(trustedKeys, map[string][]byte{ada.SecretKey: ada.Trusted})
			url := s.repo.URL()
			if kind.serve != nil {
				host := kind.serve(s)
				s.secret(credentialsSecret, host.good)
				url = host.url
			}
			s.whenApplication(func(spec *weirv1.ApplicationSpec) {
				spec.Source.URL = url
				if kind.serve != nil {
					spec.Source.SecretRef = &weirv1.LocalObjectReference{Name: credentialsSecret}
				}
				spec.Source.Verify = &weirv1.GitVerification{SecretRef: weirv1.LocalObjectReference{Name: trustedKeys}}
				spec.Sync.SelfHeal = true
			})
			s.thenApplied(signed)

			// A commit signed by a key the Secret does not hold is
			// refused, and so is an unsigned one: nothing of either
			// is applied.
			s.repo.Write("settings.yaml", fixture.ConfigMap("settings", "mode", "open"))
			forged := s.repo.CommitSigned("open up", mallory)
			s.thenRefused(forged, "is signed by", signed)
			s.thenSetting("mode", "safe")
			unsigned := s.commit("open up, unsigned", map[string]string{"settings.yaml": fixture.ConfigMap("settings", "mode", "wide open")})
			s.thenRefused(unsigned, "commit "+unsigned+" is not signed", signed)
			s.thenSetting("mode", "safe")

			// The revision applied last is still kept: a change by
			// hand is healed back to it.
			s.editConfigMap("settings", "mode", "edited by hand")
			s.thenSetting("mode", "safe")
			s.thenRefused(unsigned, "is not signed", signed)

			// A new commit signed by the trusted key is applied.
			s.repo.Write("settings.yaml", fixture.ConfigMap("settings", "mode", "careful"))
			fixed := s.repo.CommitSigned("be careful", ada)
			s.thenApplied(fixed)
			s.thenSetting("mode", "careful")
			if !strings.Contains(controllerLog.String(), "commit "+fixed+" by "+kind.name+" key") {
				t.Errorf("the controller's log does not say which key signed %s", fixed)
			}
		})
	}
}

func TestTagModeAppliesOnlySignedTags(t *testing.T) {
	release := testenv.NewSSHSigningKey(t, "release@example.com")
	s := given(t, map[string]string{"settings.yaml": fixture.ConfigMap("settings", "mode", "safe")})
	v1 := s.repo.Head()
	s.repo.TagSigned("v1.0.0", release)
	host := overHTTPS(s)
	s.secret(credentialsSecret, host.good)
	s.secret(trustedKeys, map[string][]byte{release.SecretKey: release.Trusted})
	s.whenApplication(func(spec *weirv1.ApplicationSpec) {
		spec.Source.URL = host.url
		spec.Source.SecretRef = &weirv1.LocalObjectReference{Name: credentialsSecret}
		spec.Source.Ref = weirv1.GitRef{SemVer: ">=1.0.0"}
		spec.Source.Verify = &weirv1.GitVerification{Mode: weirv1.VerifyTag, SecretRef: weirv1.LocalObjectReference{Name: trustedKeys}}
	})
	s.thenApplied(v1)

	// The unsigned commits between releases do not matter; an unsigned
	// tag does.
	v2 := s.commit("open up", map[string]string{"settings.yaml": fixture.ConfigMap("settings", "mode", "open")})
	s.repo.Git("tag", "-a", "-m", "release v1.1.0", "v1.1.0")
	s.thenRefused(v2, "tag v1.1.0 is not signed", v1)
	s.thenSetting("mode", "safe")
	s.repo.Git("tag", "-d", "v1.1.0")
	s.repo.TagSigned("v1.1.0", release)
	s.thenApplied(v2)
	s.thenSetting("mode", "open")
}

// thenRefused waits until the Application refuses commit, saying why, with
// kept still the revision applied.
func (s *story) thenRefused(commit, why, kept string) *weirv1.Application {
	s.t.Helper()
	app := s.waitFor("refusing "+commit, func(app *weirv1.Application) bool {
		ready := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.ReadyCondition)
		return ready != nil && ready.Status == metav1.ConditionFalse && ready.Reason == controller.ReasonVerificationFailed &&
			strings.Contains(ready.Message, commit) && strings.Contains(ready.Message, why) &&
			apimeta.IsStatusConditionTrue(app.Status.Conditions, weirv1.StalledCondition)
	})
	if !strings.HasSuffix(app.Status.LastAppliedRevision, kept) {
		s.t.Errorf("last applied revision %s, want it kept at %s", app.Status.LastAppliedRevision, kept)
	}
	if ready := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.ReadyCondition); !strings.Contains(ready.Message, "stays applied") {
		s.t.Errorf("Ready says %q, not which revision stays applied", ready.Message)
	}
	if rec := app.Status.History[0]; rec.Result != weirv1.SyncFailed || !strings.HasSuffix(rec.Revision, commit) {
		s.t.Errorf("history starts with %s at %s, want the refusal of %s", rec.Result, rec.Revision, commit)
	}
	return app
}

// thenSetting waits until the ConfigMap settings holds value at key.
func (s *story) thenSetting(key, value string) {
	s.t.Helper()
	testenv.Eventually(s.t, time.Minute, "settings "+key+"="+value, func(ctx context.Context) error {
		var cm corev1.ConfigMap
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: "settings"}, &cm); err != nil {
			return err
		}
		if cm.Data[key] != value {
			return fmt.Errorf("%s=%q", key, cm.Data[key])
		}
		return nil
	})
}

// editConfigMap changes a value of the ConfigMap name by hand.
func (s *story) editConfigMap(name, key, value string) {
	s.t.Helper()
	var cm corev1.ConfigMap
	s.get(&cm, name)
	before := cm.DeepCopy()
	cm.Data[key] = value
	if err := s.c.Patch(context.Background(), &cm, client.MergeFrom(before)); err != nil {
		s.t.Fatalf("edit ConfigMap %s: %v", name, err)
	}
}

func TestTagModeNeedsATagRef(t *testing.T) {
	c := testenv.Client(t, weirv1.AddToScheme)
	app := &weirv1.Application{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: testenv.Namespace(t)},
		Spec: weirv1.ApplicationSpec{Source: weirv1.GitSource{
			URL:    "https://git.example.com/shop.git",
			Verify: &weirv1.GitVerification{Mode: weirv1.VerifyTagAndHEAD, SecretRef: weirv1.LocalObjectReference{Name: trustedKeys}},
		}},
	}
	err := c.Create(context.Background(), app)
	if err == nil || !strings.Contains(err.Error(), "verify.mode Tag and TagAndHEAD need ref.tag or ref.semver") {
		t.Fatalf("create with mode TagAndHEAD on a branch: %v, want it refused", err)
	}
	app.Spec.Source.Ref = weirv1.GitRef{Tag: "v1.0.0"}
	if err := c.Create(context.Background(), app); err != nil {
		t.Fatalf("create with mode TagAndHEAD on a tag: %v", err)
	}
}

// TestAVerifyingApplicationAppliesWeirsSignedRevert: weir signs the revert
// of a failed release with the key of spec.source.signingSecretRef, which
// the Application trusts beside its people's keys, so the revert is
// applied like any signed commit.
func TestAVerifyingApplicationAppliesWeirsSignedRevert(t *testing.T) {
	ada, weir := testenv.NewSSHSigningKey(t, "ada@example.com"), testenv.NewGPGKey(t, "weir@example.com")
	s := given(t, map[string]string{
		"web.yaml":     fixture.Deployment("web", 2, "shop:v1"),
		"svc.yaml":     fixture.Service("web"),
		"rollout.yaml": canaryRollout("      - setWeight: 50\n      - pause: {}\n", "", true),
	})
	signed := s.repo.CommitSigned("sign the first release", ada)
	s.allowPush()
	s.secret(trustedKeys, map[string][]byte{ada.SecretKey: ada.Trusted, weir.SecretKey: weir.Trusted})
	s.secret("weir-signing-key", map[string][]byte{"signing_key": weir.Private})
	s.whenApplication(func(spec *weirv1.ApplicationSpec) {
		spec.Source.Verify = &weirv1.GitVerification{SecretRef: weirv1.LocalObjectReference{Name: trustedKeys}}
		spec.Source.SigningSecretRef = &weirv1.LocalObjectReference{Name: "weir-signing-key"}
	})
	s.thenApplied(signed)
	s.thenRunning("shop:v1")

	s.repo.Write("web.yaml", fixture.Deployment("web", 2, "shop:v2"))
	s.repo.CommitSigned("release v2", ada)
	s.thenPausedAt(1, 50)
	s.weir("rollout", "abort", "shop")
	ro := s.thenRollout("reverted", func(ro *weirv1.Rollout) bool {
		f := ro.Status.FailedRevisions
		return len(f) == 1 && f[0].RevertCommit != ""
	})
	s.thenApplied(ro.Status.FailedRevisions[0].RevertCommit)
	s.thenIdle("shop:v1")
}
