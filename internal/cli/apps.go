package cli

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

func newGetCommand(cluster *clusterFlags) *cobra.Command {
	get := &cobra.Command{Use: "get", Short: "List weir's objects"}
	var allNamespaces bool
	output := outputFlag("table")
	apps := &cobra.Command{
		Use:     "apps",
		Aliases: []string{"app", "applications"},
		Short:   "List Applications with their revision, sync and health",
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
			return output.print(cmd.OutOrStdout(), list, appHeader, appRows(list.Items))
		},
	}
	apps.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "list Applications in every namespace")
	apps.Flags().VarP(&output, "output", "o", "output format: table, yaml or json")
	get.AddCommand(apps, newGetClustersCommand(cluster))
	return get
}

var appHeader = []string{"NAMESPACE", "NAME", "REVISION", "SYNCED", "HEALTH", "AGE", "MESSAGE"}

func appRows(apps []weirv1.Application) [][]string {
	rows := make([][]string, 0, len(apps))
	for _, a := range apps {
		ready := apimeta.FindStatusCondition(a.Status.Conditions, weirv1.ReadyCondition)
		msg := ""
		if ready != nil {
			msg = ready.Message
		}
		rows = append(rows, []string{
			a.Namespace, a.Name, shortRevision(a.Status.LastAppliedRevision),
			conditionStatus(a, weirv1.SyncedCondition), conditionStatus(a, weirv1.HealthyCondition),
			age(a.CreationTimestamp.Time), msg,
		})
	}
	return rows
}

func conditionStatus(a weirv1.Application, typ string) string {
	if c := apimeta.FindStatusCondition(a.Status.Conditions, typ); c != nil {
		return string(c.Status)
	}
	return "Unknown"
}

// shortRevision abbreviates "main@sha1:<40 hex>" to "main@sha1:<12 hex>".
func shortRevision(rev string) string {
	const keep = len("sha1:") + 12
	for i := range rev {
		if rev[i] == '@' && len(rev) > i+1+keep {
			return rev[:i+1+keep]
		}
	}
	return rev
}

func age(t time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t))
}

func newHistoryCommand(cluster *clusterFlags) *cobra.Command {
	output := outputFlag("table")
	cmd := &cobra.Command{
		Use:   "history APP",
		Short: "Show the audit trail of an Application's syncs, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			app, err := getApp(cmd, cluster, args[0])
			if err != nil {
				return err
			}
			rows := make([][]string, 0, len(app.Status.History))
			for i, h := range app.Status.History {
				rows = append(rows, []string{
					strconv.Itoa(i), h.FinishedAt.UTC().Format(time.RFC3339), shortRevision(h.Revision),
					h.Author, h.Message, h.Trigger, string(h.Result), h.Summary,
				})
			}
			header := []string{"#", "FINISHED", "REVISION", "AUTHOR", "MESSAGE", "TRIGGER", "RESULT", "SUMMARY"}
			return output.print(cmd.OutOrStdout(), app.Status.History, header, rows)
		},
	}
	cmd.Flags().VarP(&output, "output", "o", "output format: table, yaml or json")
	return cmd
}

// getApp reads the named Application from the target namespace.
func getApp(cmd *cobra.Command, cluster *clusterFlags, name string) (*weirv1.Application, error) {
	c, err := cluster.client()
	if err != nil {
		return nil, err
	}
	ns, err := cluster.targetNamespace()
	if err != nil {
		return nil, err
	}
	app := &weirv1.Application{}
	if err := c.Get(cmd.Context(), client.ObjectKey{Namespace: ns, Name: name}, app); err != nil {
		return nil, fmt.Errorf("get Application %s/%s: %w", ns, name, err)
	}
	return app, nil
}
