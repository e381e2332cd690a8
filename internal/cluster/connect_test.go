package cluster

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

func TestRemoteConfigReadsTheSecretOfTheApplicationsCluster(t *testing.T) {
	c := fake.NewClientBuilder().WithObjects(kubeconfigSecret(t, "token.yaml")).Build()
	tests := []struct {
		name   string
		app    *weirv1.Application
		remote bool
		host   string
		err    string // a part of the error; "" for none
	}{
		{name: "weir's own cluster", app: &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "web"}}},
		{name: "a remote cluster", app: remoteApp("web", "prod"), remote: true, host: "https://prod.example.com:6443"},
		{name: "no such Secret", app: remoteApp("web", "gone"), remote: true,
			err: `read the kubeconfig Secret team-a/gone of Application team-a/web's cluster: secrets "gone" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, remote, err := RemoteConfig(t.Context(), c, tt.app)
			if remote != tt.remote {
				t.Errorf("remote = %v, want %v", remote, tt.remote)
			}
			switch {
			case tt.err != "":
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one holding %q", err, tt.err)
				}
				if !apierrors.IsNotFound(err) {
					t.Errorf("error %v does not wrap the API server's", err)
				}
			case err != nil:
				t.Fatal(err)
			case tt.host == "" && cfg != nil:
				t.Errorf("a config for weir's own cluster: host %q", cfg.Host)
			case tt.host != "" && (cfg == nil || cfg.Host != tt.host):
				t.Errorf("no config of host %q", tt.host)
			}
		})
	}
}

func TestRemoteConfigRefusesAnExecPlugin(t *testing.T) {
	c := fake.NewClientBuilder().WithObjects(kubeconfigSecret(t, "exec.yaml")).Build()
	_, remote, err := RemoteConfig(t.Context(), c, remoteApp("web", "prod"))
	if !remote || !IsRefused(err) {
		t.Fatalf("remote %v, error %v: want a refusal", remote, err)
	}
}
