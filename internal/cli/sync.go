package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/steer"
)

func newSyncCommand(cluster *clusterFlags) *cobra.Command {
	var timeout time.Duration
	var noWait bool
	cmd := &cobra.Command{
		Use:   "sync APP",
		Short: "Sync an Application now and wait for the result",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cluster.client()
			if err != nil {
				return err
			}
			app, err := getApp(cmd, cluster, args[0])
			if err != nil {
				return err
			}
			token := steer.Token()
			if err := steer.RequestSync(cmd.Context(), c, app, token); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Sync of %s/%s requested.\n", app.Namespace, app.Name)
			if noWait {
				return nil
			}
			return waitForSync(cmd, c, client.ObjectKeyFromObject(app), token, timeout)
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "how long to wait for the sync")
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "return once the sync is requested")
	return cmd
}

// waitForSync waits until the controller handled the request and reports
// the sync's result; a failed sync is an error.
func waitForSync(cmd *cobra.Command, c client.Client, key client.ObjectKey, token string, timeout time.Duration) error {
	app := &weirv1.Application{}
	err := wait.PollUntilContextTimeout(cmd.Context(), 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, key, app); err != nil {
			return false, err
		}
		return app.Status.LastHandledSyncRequest == token, nil
	})
	if err != nil {
		return fmt.Errorf("wait for the sync of %s: %w", key, err)
	}
	if len(app.Status.History) == 0 {
		return errors.New("the controller handled the request but recorded no sync")
	}
	last := app.Status.History[0]
	fmt.Fprintf(cmd.OutOrStdout(), "%s %s: %s\n", last.Result, last.Revision, last.Summary)
	if last.Result != weirv1.SyncSucceeded {
		return fmt.Errorf("sync of %s failed", key)
	}
	return nil
}
