package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/client-go/discovery"

	"weir.dev/weir/internal/apply"
	"weir.dev/weir/internal/desired"
	"weir.dev/weir/internal/isolate"
	"weir.dev/weir/internal/source"
	"weir.dev/weir/internal/source/helmrepo"
)

func newDiffCommand(cluster *clusterFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "diff APP",
		Short: "Show how the cluster differs from Git for an Application (Secret values masked)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			app, err := getApp(cmd, cluster, args[0])
			if err != nil {
				return err
			}
			c, err := cluster.client()
			if err != nil {
				return err
			}
			cfg, err := cluster.restConfig()
			if err != nil {
				return err
			}
			dc, err := discovery.NewDiscoveryClientForConfig(cfg)
			if err != nil {
				return err
			}
			loader := &desired.Loader{
				Reader: c,
				// The user's own disk: file:// sources read nothing
				// the user could not read anyway.
				Fetcher:   source.NewFetcher(userCacheDir("sources"), source.Options{AllowFileSources: true}),
				Renderer:  &isolate.Renderer{},
				Charts:    helmrepo.NewPuller(userCacheDir("charts"), helmrepo.Options{}),
				Discovery: dc,
			}
			state, err := loader.Load(cmd.Context(), app)
			if err != nil {
				return err
			}
			m, err := apply.NewManager(cfg, apply.Options{})
			if err != nil {
				return err
			}
			apply.SetOwner(state.Objects, apply.OwnerOf(app)) // as the controller applies them
			plan, err := apply.NewPlan(state.Objects)
			if err != nil {
				return err
			}
			objs := plan.Applied() // not the hooks a sync skips, nor those run only when it fails
			if err := m.Normalize(cmd.Context(), objs, state.Namespace); err != nil {
				return err
			}
			diffs, err := m.Diff(cmd.Context(), objs)
			if err != nil {
				return err
			}
			return printDiffs(cmd, state.Artifact.Revision, diffs)
		},
	}
}

func printDiffs(cmd *cobra.Command, revision string, diffs []apply.ObjectDiff) error {
	out := cmd.OutOrStdout()
	changed := 0
	for _, d := range diffs {
		if d.Diff == "" {
			continue
		}
		changed++
		fmt.Fprint(out, d.Diff)
	}
	if changed == 0 {
		fmt.Fprintf(out, "The cluster matches %s.\n", revision)
		return nil
	}
	fmt.Fprintf(out, "%d of %d objects differ from %s.\n", changed, len(diffs), revision)
	return nil
}

func userCacheDir(name string) string {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "weir", name)
}
