package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

func newPromoteCommand(cluster *clusterFlags) *cobra.Command {
	var timeout time.Duration
	var noWait bool
	cmd := &cobra.Command{
		Use:   "promote PIPELINE STAGE",
		Short: "Approve, as you, the change that awaits a Pipeline's stage",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cluster.client()
			if err != nil {
				return err
			}
			ns, err := cluster.targetNamespace()
			if err != nil {
				return err
			}
			key, stage := client.ObjectKey{Namespace: ns, Name: args[0]}, args[1]
			a, err := approve(cmd.Context(), c, key, stage)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Approved %v for stage %s of Pipeline %s (change %s) as %s.\n", a.Images, stage, key, a.Change, a.ApprovedBy)
			if noWait {
				return nil
			}
			return waitForApproval(cmd, c, key, a.Change, timeout)
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "how long to wait for weir to take the approval")
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "return once the approval is written")
	return cmd
}

// approve writes, on the Pipeline key, the approval of the change awaiting
// stage in the name of the user the API server knows the caller as, and
// returns the approval with that user.
func approve(ctx context.Context, c client.Client, key client.ObjectKey, stage string) (weirv1.PipelineApproval, error) {
	p := &weirv1.Pipeline{}
	if err := c.Get(ctx, key, p); err != nil {
		return weirv1.PipelineApproval{}, fmt.Errorf("get Pipeline %s: %w", key, err)
	}
	a, ok := awaitingApproval(p, stage)
	if !ok {
		return a, fmt.Errorf("no change awaits approval for stage %s of Pipeline %s", stage, key)
	}
	review := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, review); err != nil {
		return a, fmt.Errorf("learn who you are with a SelfSubjectReview: %w", err)
	}
	a.ApprovedBy = review.Status.UserInfo.Username
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"resourceVersion": p.ResourceVersion,
		"annotations":     map[string]string{weirv1.ApprovalAnnotation(stage): weirv1.ApprovalValue(a.Change, a.ApprovedBy)},
	}})
	if err != nil {
		return a, err
	}
	if err := c.Patch(ctx, p, client.RawPatch("application/merge-patch+json", patch)); err != nil {
		return a, fmt.Errorf("approve stage %s of Pipeline %s: %w", stage, key, err)
	}
	return a, nil
}

// awaitingApproval is the newest approval of stage when it awaits one.
func awaitingApproval(p *weirv1.Pipeline, stage string) (weirv1.PipelineApproval, bool) {
	for _, a := range p.Status.Approvals {
		if a.Stage == stage {
			return a, a.Phase == weirv1.ApprovalAwaiting
		}
	}
	return weirv1.PipelineApproval{}, false
}

// waitForApproval waits until weir has taken the approval of change, and
// reports the commit when it follows within timeout.
func waitForApproval(cmd *cobra.Command, c client.Client, key client.ObjectKey, change string, timeout time.Duration) error {
	var got weirv1.PipelineApproval
	err := wait.PollUntilContextTimeout(cmd.Context(), 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		p := &weirv1.Pipeline{}
		if err := c.Get(ctx, key, p); err != nil {
			return false, err
		}
		for _, a := range p.Status.Approvals {
			if a.Change == change {
				got = a
				return a.Phase == weirv1.ApprovalCommitted || a.Phase == weirv1.ApprovalReleased || a.Phase == weirv1.ApprovalSuperseded, nil
			}
		}
		return false, nil
	})
	switch {
	case got.Phase == weirv1.ApprovalSuperseded:
		return fmt.Errorf("change %s no longer awaits stage %s of Pipeline %s: another took its place", change, got.Stage, key)
	case err != nil && got.Phase == weirv1.ApprovalApproved:
		fmt.Fprintf(cmd.OutOrStdout(), "weir took the approval; the commit has not followed yet.\n")
		return nil
	case err != nil:
		return fmt.Errorf("wait for weir to take the approval of change %s: %w", change, err)
	}
	if got.Commit == "" {
		fmt.Fprintf(cmd.OutOrStdout(), "Stage %s's files held the change already.\n", got.Stage)
		return nil
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Committed to stage %s as %s.\n", got.Stage, got.Commit)
	return nil
}
