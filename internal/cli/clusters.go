package cli

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
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
	var selector string
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
			opts, err := cluster.listScope(allNamespaces)
			if err != nil {
				return err
			}
			list := &weirv1.ApplicationList{}
			if err := c.List(cmd.Context(), list, opts...); err != nil {
				return err
			}
			labelled, err := labelledSecrets(cmd.Context(), c, selector, opts)
			if err != nil {
				return err
			}
			statuses := remote.Survey(cmd.Context(), c, list.Items, labelled, timeout)
			return output.print(cmd.OutOrStdout(), statuses, clusterHeader, clusterRows(statuses))
		},
	}
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "list the clusters of Applications in every namespace")
	cmd.Flags().VarP(&output, "output", "o", "output format: table, yaml or json")
	cmd.Flags().DurationVar(&timeout, "timeout", timeout, "how long each cluster has to answer")
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "also list the kubeconfig Secrets with these labels (as an ApplicationSet's clusters generator selects them), whether Applications target them or not")
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

// labelledSecrets names the Secrets that selector matches, listed with
// opts; none without a selector.
func labelledSecrets(ctx context.Context, c client.Client, selector string, opts []client.ListOption) ([]types.NamespacedName, error) {
	if selector == "" {
		return nil, nil
	}
	sel, err := labels.Parse(selector)
	if err != nil {
		return nil, fmt.Errorf("--selector: %w", err)
	}
	// Their names only: the kubeconfigs are read one by one after.
	var secrets metav1.PartialObjectMetadataList
	secrets.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	if err := c.List(ctx, &secrets, append(opts, client.MatchingLabelsSelector{Selector: sel})...); err != nil {
		return nil, err
	}
	keys := make([]types.NamespacedName, len(secrets.Items))
	for i, s := range secrets.Items {
		keys[i] = types.NamespacedName{Namespace: s.Namespace, Name: s.Name}
	}
	return keys, nil
}
