package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/weir/internal/source"
	"weir.dev/weir/internal/version"
)

// Options say where weir's manifests go in Git.
type Options struct {
	// URL is the Git repository, as an Application names it.
	URL string
	// Branch receives the commit, and is what the Application tracks;
	// "main" when empty.
	Branch string
	// Path is the directory of the repository that holds weir's
	// manifests; "weir-system" when empty.
	Path string
	// Credentials push to the repository. When set, they are also stored
	// in the Secret SecretName in weir-system, which the Application
	// names, for weir to fetch with; they never go to Git.
	Credentials source.Credentials
	// SecretName is the Secret of the Application's credentials; with no
	// Credentials, an existing Secret weir fetches with, or none.
	SecretName string
	// Interval is how often weir checks the branch; the Application's
	// default (one minute) when zero.
	Interval time.Duration
	// Remote says how the repository may be reached from here (file://
	// URLs only with AllowFileSources).
	Remote source.RemoteOptions
}

// Result is what Run did.
type Result struct {
	// Commit is the head of the branch with weir's manifests.
	Commit string
	// Committed says that Run made that commit; false when Git already
	// held the manifests.
	Committed bool
	// Objects is the number of objects applied; Changed those created or
	// changed.
	Objects, Changed int
}

// Run commits weir's manifests to Git and applies them with c, which must
// be allowed to install weir (a cluster administrator).
func Run(ctx context.Context, c client.Client, opts Options) (Result, error) {
	opts = opts.withDefaults()
	if opts.URL == "" {
		return Result{}, errors.New("bootstrap: no Git repository URL")
	}
	files, objs, err := files(opts)
	if err != nil {
		return Result{}, err
	}
	tmp, err := os.MkdirTemp("", "weir-bootstrap-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(tmp)
	remote, err := source.NewRemote(opts.URL, opts.Credentials, tmp, opts.Remote)
	if err != nil {
		return Result{}, fmt.Errorf("repository: %w", err)
	}
	var res Result
	message := fmt.Sprintf("weir %s in %s (weir bootstrap)", version.Version, opts.Path)
	if res.Commit, res.Committed, err = commitFiles(ctx, remote, opts.URL, opts.Branch, opts.Path, files, message); err != nil {
		return res, err
	}
	if secret := credentialsSecret(opts); secret != nil {
		// After the Namespace, before the Application (applied last).
		objs = append(objs, secret)
	}
	res.Objects = len(objs)
	res.Changed, err = applyAll(ctx, c, objs)
	return res, err
}

func (o Options) withDefaults() Options {
	if o.Branch == "" {
		o.Branch = "main"
	}
	if o.Path == "" {
		o.Path = Namespace
	}
	return o
}

// credentialsSecret is the Secret that gives weir opts.Credentials, as an
// Application's secretRef reads them; nil without credentials.
func credentialsSecret(opts Options) *unstructured.Unstructured {
	c := opts.Credentials
	if opts.SecretName == "" || (c.Username == "" && c.Password == "" && len(c.Identity) == 0) {
		return nil
	}
	data := map[string][]byte{}
	for k, v := range map[string][]byte{"username": []byte(c.Username), "password": []byte(c.Password), "identity": c.Identity, "known_hosts": c.KnownHosts} {
		if len(v) > 0 {
			data[k] = v
		}
	}
	return toUnstructured(&corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: opts.SecretName, Namespace: Namespace},
		Data:       data,
	})
}
