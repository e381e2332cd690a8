package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// testSecrets are the credential values the fixtures hold; no error may
// repeat one.
var testSecrets = []string{"s3cr3t-token-value", "iN1JdhIRs4FMsF67"}

func TestRESTConfigAcceptsOnlyStaticCredentials(t *testing.T) {
	tests := []struct {
		file string
		want string // a part of the refusal; "" when accepted
	}{
		{file: "token.yaml"},
		{file: "client-certificate-data.yaml"},
		{file: "exec.yaml", want: `kubeconfig in Secret team-a/prod: users["deployer"].exec is refused`},
		{file: "auth-provider.yaml", want: `users["deployer"].auth-provider is refused`},
		{file: "client-certificate.yaml", want: `users["deployer"].client-certificate is refused`},
		{file: "client-key.yaml", want: `users["deployer"].client-key is refused`},
		{file: "token-file.yaml", want: `users["deployer"].tokenFile is refused`},
		{file: "certificate-authority.yaml", want: `clusters["prod"].certificate-authority is refused`},
		{file: "no-current-context.yaml", want: `current-context "" names no context`},
		{file: "no-server.yaml", want: `names cluster "prod", which has no server`},
		{file: "malformed.yaml", want: "not a kubeconfig"},
		{file: "bad-ca.yaml", want: "current context's certificates: unable to load root certificates"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "prod"}, Data: map[string][]byte{"value": data}}
			cfg, err := RESTConfig(secret)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.Host != "https://prod.example.com:6443" {
					t.Errorf("host = %q", cfg.Host)
				}
				return
			}
			if !IsRefused(err) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a refusal with %q", err, tt.want)
			}
			assertNoSecret(t, err.Error())
		})
	}
}

func TestRESTConfigWithoutTheKey(t *testing.T) {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "prod"}, Data: map[string][]byte{"kubeconfig": nil}}
	_, err := RESTConfig(secret)
	if !IsRefused(err) || err.Error() != `kubeconfig in Secret team-a/prod: no key "value"` {
		t.Fatalf("err = %v", err)
	}
}

// FuzzParse feeds any bytes to Parse: it never panics, never accepts a
// kubeconfig whose configuration would run a command or read a file, and
// never repeats a credential in its error.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("team-a/prod", data)
		if err != nil {
			if !IsRefused(err) {
				t.Fatalf("err = %v, want a RefusedError", err)
			}
			assertNoSecret(t, err.Error())
			return
		}
		if cfg.ExecProvider != nil || cfg.AuthProvider != nil || cfg.CAFile != "" || cfg.CertFile != "" || cfg.KeyFile != "" || cfg.BearerTokenFile != "" {
			t.Fatalf("accepted a kubeconfig that runs a command or reads a file: %+v", cfg)
		}
	})
}

func assertNoSecret(t *testing.T, msg string) {
	t.Helper()
	for _, s := range testSecrets {
		if strings.Contains(msg, s) {
			t.Fatalf("error %q holds a credential", msg)
		}
	}
}
