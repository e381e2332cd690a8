package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	remote "weir.dev/weir/internal/cluster"
	"weir.dev/weir/internal/steer"
)

func newRolloutCommand(cluster *clusterFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout",
		Short: "Watch and steer the progressive delivery of an Application's Rollouts",
	}
	var name string
	cmd.PersistentFlags().StringVar(&name, "rollout", "", "the Rollout, when the Application has several")
	for _, a := range steer.RolloutActions {
		cmd.AddCommand(newRolloutActionCommand(cluster, &name, a))
	}
	cmd.AddCommand(newRolloutStatusCommand(cluster, &name))
	return cmd
}

func newRolloutActionCommand(cluster *clusterFlags, name *string, a steer.RolloutAction) *cobra.Command {
	return &cobra.Command{
		Use:   a.Verb + " APP",
		Short: a.Short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ro, err := findRollout(cmd, cluster, args[0], *name)
			if err != nil {
				return err
			}
			if err := steer.Rollout(cmd.Context(), c, ro, a, steer.Token()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Rollout %s/%s: %s requested.\n", ro.Namespace, ro.Name, a.Verb)
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
// named when it applied several, and a client of the cluster it runs on.
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
	if c, err = rolloutCluster(cmd.Context(), c, a); err != nil {
		return nil, nil, err
	}
	ro := &weirv1.Rollout{}
	if err := c.Get(cmd.Context(), client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, ro); err != nil {
		return nil, nil, fmt.Errorf("get Rollout %s/%s: %w", ref.Namespace, ref.Name, err)
	}
	return c, ro, nil
}

// rolloutCluster returns a client of the cluster app's Rollouts run on:
// weir's own, which c reaches, or the remote cluster app syncs to, reached
// with the kubeconfig of its Secret, which c reads.
func rolloutCluster(ctx context.Context, c client.Client, app *weirv1.Application) (client.Client, error) {
	cfg, ok, err := remote.RemoteConfig(ctx, c, app)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return c, nil
	}
	return client.New(cfg, client.Options{Scheme: newScheme()})
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
