package fleet

import (
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Parameters of the clusters generator.
const (
	// ClusterNameParam is the name of the cluster's kubeconfig Secret.
	ClusterNameParam = "cluster.name"
	// ClusterLabelPrefix prefixes each label of the Secret.
	ClusterLabelPrefix = "cluster.labels."
)

// clusterElements are the elements of the cluster Secrets secrets: their
// name and labels, in the order of their names.
func clusterElements(secrets []metav1.ObjectMeta) ([]Element, error) {
	sort.Slice(secrets, func(i, j int) bool { return secrets[i].Name < secrets[j].Name })
	out := make([]Element, len(secrets))
	for i, s := range secrets {
		origin := "cluster Secret " + s.Name
		if err := checkParams(origin, len(s.Labels)+1); err != nil {
			return nil, err
		}
		params := map[string]string{ClusterNameParam: s.Name}
		for k, v := range s.Labels {
			params[ClusterLabelPrefix+k] = v
		}
		out[i] = Element{Params: params, Origin: origin}
	}
	return out, nil
}
