package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Execute runs the weir command line with args and returns the exit code.
func Execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	return 0
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "weir",
		Short:         "GitOps for Kubernetes with progressive delivery built in",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cluster := &clusterFlags{}
	cluster.register(root)
	root.AddCommand(
		newControllerCommand(cluster),
		newGetCommand(cluster),
		newDiffCommand(cluster),
		newSyncCommand(cluster),
		newHistoryCommand(cluster),
		newRolloutCommand(cluster),
		newPromoteCommand(cluster),
		newUICommand(cluster),
		newDevCommand(),
		newBootstrapCommand(cluster),
		newVersionCommand(),
	)
	return root
}
