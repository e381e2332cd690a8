package cli

import (
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// clusterFlags locate the cluster and namespace, as kubectl does.
type clusterFlags struct {
	kubeconfig string
	namespace  string
}

func (f *clusterFlags) register(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&f.kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config or in-cluster)")
	cmd.PersistentFlags().StringVarP(&f.namespace, "namespace", "n", "", "namespace (default: the kubeconfig context's)")
}

func (f *clusterFlags) clientConfig() clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = f.kubeconfig
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
}

// restConfig returns the client configuration.
func (f *clusterFlags) restConfig() (*rest.Config, error) {
	return f.clientConfig().ClientConfig()
}

// targetNamespace is --namespace, or the kubeconfig context's namespace.
func (f *clusterFlags) targetNamespace() (string, error) {
	if f.namespace != "" {
		return f.namespace, nil
	}
	ns, _, err := f.clientConfig().Namespace()
	return ns, err
}

// listScope is the list option of a command's --all-namespaces: none when
// all, else the target namespace.
func (f *clusterFlags) listScope(allNamespaces bool) ([]client.ListOption, error) {
	if allNamespaces {
		return nil, nil
	}
	ns, err := f.targetNamespace()
	if err != nil {
		return nil, err
	}
	return []client.ListOption{client.InNamespace(ns)}, nil
}

// newScheme holds the built-in types and weir's.
func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := weirv1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

// client returns a client for the cluster with weir's types.
func (f *clusterFlags) client() (client.Client, error) {
	cfg, err := f.restConfig()
	if err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: newScheme()})
}
