package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// rolloutActions are the actions by hand, each written as an annotation
// on the Rollout for the controller to act on.
var rolloutActions = []struct {
	verb, annotation, short string
}{
	{"promote", weirv1.PromoteAnnotation, "End the current pause, or switch a blue/green rollout waiting for promotion"},
	{"abort", weirv1.AbortAnnotation, "Abort: all traffic back to stable, the canary scaled to zero, the revision marked failed"},
	{"retry", weirv1.RetryAnnotation, "Release an aborted revision again"},
	{"pause", weirv1.PauseAnnotation, "Pause at the current step until resumed"},
	{"resume", weirv1.ResumeAnnotation, "Resume a rollout paused by hand"},
}

func newRolloutCommand(cluster *clusterFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout",
		Short: "Watch and steer the progressive delivery of an Application's Rollouts",
	}
	var name string
	cmd.PersistentFlags().StringVar(&name, "rollout", "", "the Rollout, when the Application has several")
	for _, a := range rolloutActions {
		cmd.AddCommand(newRolloutActionCommand(cluster, &name, a.verb, a.annotation, a.short))
	}
	cmd.AddCommand(newRolloutStatusCommand(cluster, &name))
	return cmd
}

func newRolloutActionCommand(cluster *clusterFlags, name *string, verb, annotation, short string) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " APP",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ro, err := findRollout(cmd, cluster, args[0], *name)
			if err != nil {
				return err
			}
			before := ro.DeepCopy()
			if ro.Annotations == nil {
				ro.Annotations = map[string]string{}
			}
			ro.Annotations[annotation] = time.Now().UTC().Format(time.RFC3339Nano)
			if err := c.Patch(cmd.Context(), ro, client.MergeFrom(before)); err != nil {
				return fmt.Errorf("%s Rollout %s/%s: %w", verb, ro.Namespace, ro.Name, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Rollout %s/%s: %s requested.\n", ro.Namespace, ro.Name, verb)
			return nil
		},
	}
}

func newRolloutStatusCommand(cluster *clusterFlags, name *string) *cobra.Command {
	var watch bool
	output := outputFlag("table")
	cmd := &cobra.Command{
		Use:   "status APP",
		Short: "Show a Rollout's steps, weights and analysis values",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ro, err := findRollout(cmd, cluster, args[0], *name)
			if err != nil {
				return err
			}
			show := func(ro *weirv1.Rollout) error {
				if output != "table" {
					return output.print(cmd.OutOrStdout(), ro, nil, nil)
				}
				_, err := fmt.Fprint(cmd.OutOrStdout(), describeRollout(ro))
				return err
			}
			if !watch {
				return show(ro)
			}
			return watchRollout(cmd.Context(), c, client.ObjectKeyFromObject(ro), show)
		},
	}
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "print the status again whenever it changes, until interrupted")
	cmd.Flags().VarP(&output, "output", "o", "output format: table, yaml or json")
	return cmd
}

// watchRollout calls show each time the Rollout's status changes, polling
// every second, until ctx ends.
func watchRollout(ctx context.Context, c client.Client, key client.ObjectKey, show func(*weirv1.Rollout) error) error {
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	last := ""
	for {
		ro := &weirv1.Rollout{}
		if err := c.Get(ctx, key, ro); err != nil {
			return fmt.Errorf("get Rollout %s: %w", key, err)
		}
		if text := describeRollout(ro); text != last {
			last = text
			if err := show(ro); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// findRollout returns the Rollout that the Application applied, the one
// named when it applied several.
func findRollout(cmd *cobra.Command, cluster *clusterFlags, app, name string) (client.Client, *weirv1.Rollout, error) {
	c, err := cluster.client()
	if err != nil {
		return nil, nil, err
	}
	a, err := getApp(cmd, cluster, app)
	if err != nil {
		return nil, nil, err
	}
	ref, err := pickRollout(a, name)
	if err != nil {
		return nil, nil, err
	}
	ro := &weirv1.Rollout{}
	if err := c.Get(cmd.Context(), client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, ro); err != nil {
		return nil, nil, fmt.Errorf("get Rollout %s/%s: %w", ref.Namespace, ref.Name, err)
	}
	return c, ro, nil
}

// pickRollout finds the Rollout in the Application's inventory: the only
// one, or the one called name.
func pickRollout(app *weirv1.Application, name string) (weirv1.ObjectRef, error) {
	var found []weirv1.ObjectRef
	for _, ref := range app.Status.Inventory {
		if ref.Group == weirv1.GroupVersion.Group && ref.Kind == "Rollout" && (name == "" || ref.Name == name) {
			found = append(found, ref)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) == 0 && name != "":
		return weirv1.ObjectRef{}, fmt.Errorf("Application %s/%s applied no Rollout named %q", app.Namespace, app.Name, name)
	case len(found) == 0:
		return weirv1.ObjectRef{}, fmt.Errorf("Application %s/%s applied no Rollout", app.Namespace, app.Name)
	}
	names := make([]string, len(found))
	for i, ref := range found {
		names[i] = ref.Name
	}
	return weirv1.ObjectRef{}, fmt.Errorf("Application %s/%s applied %d Rollouts (%v): name one with --rollout", app.Namespace, app.Name, len(found), names)
}
