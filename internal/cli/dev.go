package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"weir.dev/weir/internal/localcluster"
)

func newDevCommand() *cobra.Command {
	dev := &cobra.Command{
		Use:   "dev",
		Short: "Tools for trying weir on a laptop",
	}
	dev.AddCommand(newDevClusterCommand(), newDevImageCommand())
	return dev
}

// devClusterFlags are shared by the `weir dev cluster` subcommands.
type devClusterFlags struct {
	dir string
}

func newDevClusterCommand() *cobra.Command {
	flags := &devClusterFlags{}
	cluster := &cobra.Command{
		Use:   "cluster",
		Short: "A real local Kubernetes control plane (etcd, kube-apiserver, controllers, kwok nodes)",
	}
	cluster.PersistentFlags().StringVar(&flags.dir, "dir", userCacheDir("dev-cluster"), "directory for the cluster's data, logs and kubeconfig")
	cluster.AddCommand(
		newDevClusterBuildCommand(),
		newDevClusterUpCommand(flags),
		newDevClusterDownCommand(flags),
		newDevClusterKubeconfigCommand(flags),
		newDevClusterCanRunNodeCommand(),
	)
	return cluster
}

func newDevClusterBuildCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "build",
		Short: "Build the control-plane and real-node binaries, and Traefik, from Go modules (cached by version)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := buildControlPlane(cmd, true)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Kubernetes %s binaries in %s\nkwok in %s\nkubelet and kube-proxy in %s\nCoreDNS in %s\nTraefik in %s\n",
				b.KubernetesVersion, b.Kubernetes, b.Kwok, b.Node, b.CoreDNS, b.Traefik)
			return nil
		},
	}
}

// buildControlPlane builds (or finds cached) binaries for the checkout that
// holds the working directory; realNode adds those of a real node.
func buildControlPlane(cmd *cobra.Command, realNode bool) (localcluster.Binaries, error) {
	opts, err := localcluster.DefaultBuildOptions(".")
	if err != nil {
		return localcluster.Binaries{}, err
	}
	opts.RealNode = realNode
	if _, cached, err := localcluster.Locate(opts); err == nil && !cached {
		fmt.Fprintln(cmd.ErrOrStderr(), "Building the control plane from Go modules; the first build takes several minutes...")
		opts.Log = cmd.ErrOrStderr()
	}
	return localcluster.Build(cmd.Context(), opts)
}

func newDevClusterUpCommand(flags *devClusterFlags) *cobra.Command {
	var nodes int
	var realNode bool
	up := &cobra.Command{
		Use:   "up",
		Short: "Start the local cluster in the background and write its kubeconfig",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if c, err := localcluster.Attach(flags.dir); err == nil && c.Running() {
				fmt.Fprintf(cmd.OutOrStdout(), "The local cluster is already running.\nexport KUBECONFIG=%s\n", c.Kubeconfig)
				return nil
			}
			if realNode {
				// Before the build, which takes minutes when not cached.
				if err := localcluster.CheckRealNodeHost(); err != nil {
					return fmt.Errorf("--real-node: %w", err)
				}
			}
			b, err := buildControlPlane(cmd, realNode)
			if err != nil {
				return err
			}
			if err := os.RemoveAll(flags.dir); err != nil {
				return err
			}
			c, err := localcluster.Start(cmd.Context(), localcluster.Options{Binaries: b, Dir: flags.dir, Nodes: nodes, Detach: true, RealNode: realNode})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Kubernetes %s is running (logs in %s).\nexport KUBECONFIG=%s\n", b.KubernetesVersion, filepath.Join(c.Dir, "logs"), c.Kubeconfig)
			if realNode {
				fmt.Fprintf(cmd.OutOrStdout(), "Node %s runs containers: load images with `weir dev image load`; pods select it with the node selector %s=%s and tolerate the taint %s=%s:NoSchedule.\n",
					localcluster.RealNodeName, localcluster.RealNodeLabel, localcluster.RealNodeValue, localcluster.RealNodeLabel, localcluster.RealNodeValue)
			}
			return nil
		},
	}
	up.Flags().IntVar(&nodes, "nodes", 1, "number of kwok nodes")
	up.Flags().BoolVar(&realNode, "real-node", false, "add a real node (containerd, kubelet, kube-proxy, CoreDNS; needs root and Debian's containerd, runc, containernetworking-plugins, iptables, conntrack, nftables)")
	return up
}

func newDevClusterDownCommand(flags *devClusterFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "down",
		Short: "Stop the local cluster and delete its data",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := localcluster.Attach(flags.dir)
			if err != nil {
				return err
			}
			if err := c.Stop(); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "The local cluster is stopped.")
			return os.RemoveAll(flags.dir)
		},
	}
}

func newDevClusterKubeconfigCommand(flags *devClusterFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "kubeconfig",
		Short: "Print the path of the local cluster's kubeconfig",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := localcluster.Attach(flags.dir)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), c.Kubeconfig)
			return nil
		},
	}
}

func newDevClusterCanRunNodeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "can-run-node",
		Short: "Say whether this machine can run a real node (root and Debian's packages), as up --real-node checks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := localcluster.CheckRealNodeHost(); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "This machine can run a real node.")
			return nil
		},
	}
}
