package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"weir.dev/weir/internal/livediff"
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
			// The user's own disk: file:// sources read nothing
			// the user could not read anyway.
			res, err := livediff.Diff(cmd.Context(), cfg, c, app, livediff.Options{
				SourceDir: userCacheDir("sources"), ChartDir: userCacheDir("charts"), AllowFileSources: true,
			})
			if err != nil {
				return err
			}
			return printDiffs(cmd, res)
		},
	}
}

func printDiffs(cmd *cobra.Command, res livediff.Result) error {
	out := cmd.OutOrStdout()
	for _, d := range res.Diffs {
		fmt.Fprint(out, d.Diff)
	}
	changed := res.Changed()
	if changed == 0 {
		fmt.Fprintf(out, "The cluster matches %s.\n", res.Revision)
		return nil
	}
	fmt.Fprintf(out, "%d of %d objects differ from %s.\n", changed, len(res.Diffs), res.Revision)
	return nil
}

func userCacheDir(name string) string {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "weir", name)
}
