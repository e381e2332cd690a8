package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"weir.dev/weir/internal/bootstrap"
)

// bootstrapFlags are the files that hold `weir bootstrap`'s credentials.
type bootstrapFlags struct {
	passwordFile, identityFile, knownHostsFile string
}

func newBootstrapCommand(cluster *clusterFlags) *cobra.Command {
	opts := bootstrap.Options{}
	var files bootstrapFlags
	cmd := &cobra.Command{
		Use:   "bootstrap --url URL",
		Short: "Install weir managed by weir from a Git repository",
		Long: `Commit weir's install manifests, and an Application that syncs them, to
--path of --branch of the repository at --url; apply them to the cluster;
from then on, upgrading weir is a commit. Credentials for the repository go
to the Secret --secret-name in weir-system, never to Git. Running it again
changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cluster.client()
			if err != nil {
				return err
			}
			if err := files.read(&opts); err != nil {
				return err
			}
			res, err := bootstrap.Run(cmd.Context(), c, opts)
			if err != nil {
				return err
			}
			printBootstrap(cmd, opts, res)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.URL, "url", "", "Git repository (https://, ssh:// or git@host:path)")
	f.StringVar(&opts.Branch, "branch", "main", "branch to commit to and sync from")
	f.StringVar(&opts.Path, "path", bootstrap.Namespace, "directory of the repository for weir's manifests")
	f.StringVar(&opts.Credentials.Username, "username", "", "HTTPS user name")
	f.StringVar(&files.passwordFile, "password-file", "", "file holding the HTTPS password or token")
	f.StringVar(&files.identityFile, "identity-file", "", "file holding the SSH private key")
	f.StringVar(&files.knownHostsFile, "known-hosts-file", "", "known_hosts file for the SSH server (required with --identity-file)")
	f.StringVar(&opts.SecretName, "secret-name", "weir-git", "Secret in weir-system with the credentials weir fetches with")
	f.DurationVar(&opts.Interval, "interval", 0, "how often weir checks the branch (default: the Application's, one minute)")
	f.BoolVar(&opts.Remote.AllowFileSources, "allow-file-sources", false, "allow a file:// repository (on this machine)")
	_ = cmd.MarkFlagRequired("url")
	return cmd
}

// read loads the credentials the flags name.
func (b bootstrapFlags) read(opts *bootstrap.Options) error {
	for _, f := range []struct {
		path string
		set  func([]byte)
	}{
		{b.passwordFile, func(v []byte) { opts.Credentials.Password = strings.TrimSpace(string(v)) }},
		{b.identityFile, func(v []byte) { opts.Credentials.Identity = v }},
		{b.knownHostsFile, func(v []byte) { opts.Credentials.KnownHosts = v }},
	} {
		if f.path == "" {
			continue
		}
		v, err := os.ReadFile(f.path)
		if err != nil {
			return err
		}
		f.set(v)
	}
	return nil
}

func printBootstrap(cmd *cobra.Command, opts bootstrap.Options, res bootstrap.Result) {
	out := cmd.OutOrStdout()
	if res.Committed {
		fmt.Fprintf(out, "Committed weir's manifests to %s of %s: %s.\n", opts.Path, opts.Branch, res.Commit)
	} else {
		fmt.Fprintf(out, "Git already holds weir's manifests in %s of %s, at %s.\n", opts.Path, opts.Branch, res.Commit)
	}
	fmt.Fprintf(out, "Applied %d objects, %d of them created or changed; the Application %s/%s keeps weir in step with Git.\n",
		res.Objects, res.Changed, bootstrap.Namespace, bootstrap.ApplicationName)
}
