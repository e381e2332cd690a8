package testenv

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/crypto/bcrypt"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/registry"
)

// registryBinary is the OCI registry of Debian's docker-registry package
// (CNCF distribution 2.8), which CI installs.
const registryBinary = "docker-registry"

// OCIRegistry is a real OCI registry, distribution's, on a loopback port,
// speaking plain HTTP.
type OCIRegistry struct {
	addr           string
	user, password string
}

// NewOCIRegistry runs a registry until the test ends, storing blobs in a
// temporary directory. With a user, every request needs basic auth with
// user and password. The test is skipped when the docker-registry binary
// is not installed (apt-get install docker-registry).
func NewOCIRegistry(t testing.TB, user, password string) *OCIRegistry {
	t.Helper()
	bin, err := exec.LookPath(registryBinary)
	if err != nil {
		t.Skipf("%s is not installed (apt-get install docker-registry): %v", registryBinary, err)
	}
	r := &OCIRegistry{addr: freeLoopbackAddr(t), user: user, password: password}
	config := r.writeConfig(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve", config)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	// Killed with the test binary, so that a test killed at its timeout
	// leaves no registry behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", registryBinary, err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	if err := r.waitReady(10 * time.Second); err != nil {
		t.Fatalf("%s did not start: %v\n%s", registryBinary, err, logs.String())
	}
	return r
}

// Addr is the registry's host:port.
func (r *OCIRegistry) Addr() string { return r.addr }

// URL is the oci:// URL of the registry's "charts" path, as a chart
// reference names it.
func (r *OCIRegistry) URL() string { return "oci://" + r.addr + "/charts" }

// Push publishes the chart directory dir at version ("" for the chart's
// own) with Helm's registry client, as `helm push` does.
func (r *OCIRegistry) Push(t testing.TB, dir, version string) {
	t.Helper()
	archive := PackageChart(t, dir, version, t.TempDir())
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	opts := []registry.ClientOption{registry.ClientOptPlainHTTP()}
	if r.user != "" {
		opts = append(opts, registry.ClientOptBasicAuth(r.user, r.password))
	}
	client, err := registry.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := loader.LoadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	ref := fmt.Sprintf("%s/charts/%s:%s", r.addr, ch.Name(), ch.Metadata.Version)
	if _, err := client.Push(data, ref); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

// writeConfig writes the registry's configuration (and htpasswd file) into
// dir and returns its path.
func (r *OCIRegistry) writeConfig(t testing.TB, dir string) string {
	t.Helper()
	config := fmt.Sprintf(`version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
`, filepath.Join(dir, "data"), r.addr)
	if r.user != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(r.password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(r.user+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		config += fmt.Sprintf("auth:\n  htpasswd:\n    realm: weir-test\n    path: %s\n", htpasswd)
	}
	name := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(name, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

// waitReady polls the registry's API root until it answers.
func (r *OCIRegistry) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get("http://" + r.addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeLoopbackAddr returns a loopback address with a port free a moment ago.
func freeLoopbackAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// PushImage pushes a random image (go-containerregistry's random.Image) to
// repo:tag of the registry, repo a path such as "team/web", and returns
// the repository's full name, host:port/repo.
func (r *OCIRegistry) PushImage(t testing.TB, repo, tag string) string {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	full := r.addr + "/" + repo
	ref, err := name.NewTag(full+":"+tag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	auth := authn.Anonymous
	if r.user != "" {
		auth = &authn.Basic{Username: r.user, Password: r.password}
	}
	if err := remote.Write(ref, img, remote.WithAuth(auth)); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return full
}

// DockerConfigJSON is the .dockerconfigjson of a pull Secret for the
// registry, with its user and password.
func (r *OCIRegistry) DockerConfigJSON() []byte {
	auth := base64.StdEncoding.EncodeToString([]byte(r.user + ":" + r.password))
	return fmt.Appendf(nil, `{"auths":{%q:{"username":%q,"password":%q,"auth":%q}}}`, r.addr, r.user, r.password, auth)
}
