package cli

import (
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	remote "weir.dev/weir/internal/cluster"
)

// newGetClustersCommand lists the remote clusters that Applications
// target.
func newGetClustersCommand(cluster *clusterFlags) *cobra.Command {
	var allNamespaces bool
	output := outputFlag("table")
	timeout := 5 * time.Second
	cmd := &cobra.Command{
		Use:     "clusters",
		Aliases: []string{"cluster"},
		Short:   "List the remote clusters Applications sync to, with their version, reachability and Applications",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cluster.client()
			if err != nil {
				return err
			}
			var opts []client.ListOption
			if !allNamespaces {
				ns, err := cluster.targetNamespace()
				if err != nil {
					return err
				}
				opts = append(opts, client.InNamespace(ns))
			}
			list := &weirv1.ApplicationList{}
			if err := c.List(cmd.Context(), list, opts...); err != nil {
				return err
			}
			statuses := remote.Survey(cmd.Context(), c, list.Items, timeout)
			return output.print(cmd.OutOrStdout(), statuses, clusterHeader, clusterRows(statuses))
		},
	}
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "list the clusters of Applications in every namespace")
	cmd.Flags().VarP(&output, "output", "o", "output format: table, yaml or json")
	cmd.Flags().DurationVar(&timeout, "timeout", timeout, "how long each cluster has to answer")
	return cmd
}

var clusterHeader = []string{"NAMESPACE", "SECRET", "SERVER", "VERSION", "REACHABLE", "APPLICATIONS", "MESSAGE"}

func clusterRows(statuses []remote.Status) [][]string {
	rows := make([][]string, 0, len(statuses))
	for _, s := range statuses {
		rows = append(rows, []string{s.Namespace, s.Secret, s.Server, s.Version,
			strconv.FormatBool(s.Reachable), strconv.Itoa(s.Applications), s.Message})
	}
	return rows
}
