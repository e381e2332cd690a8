package localcluster

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// serviceCIDR is the Service IP range; its first address, the "kubernetes"
// Service, is in the serving certificate. podCIDR, the range kwok gives pod
// IPs from, must not overlap it.
const (
	serviceCIDR = "10.96.0.0/16"
	podCIDR     = "10.244.0.0/16"
)

func etcdArgs(dir, clientURL string, peerPort int) []string {
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	return []string{
		"--name=weir",
		"--data-dir=" + filepath.Join(dir, "etcd"),
		"--listen-client-urls=" + clientURL,
		"--advertise-client-urls=" + clientURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=weir=" + peerURL,
		// A throwaway cluster trades durability for speed.
		"--unsafe-no-fsync",
		"--log-level=warn",
	}
}

// apiserverArgs serves on host: loopback, or the node address for a real
// node, whose pods reach the API server there through the "kubernetes"
// Service. The API server reaches the kubelet on the node address with the
// admin certificate, checking the kubelet's serving certificate.
func apiserverArgs(certs pki, etcdURL, host string, port int) []string {
	args := []string{
		"--bind-address=" + host,
		"--advertise-address=" + host,
		"--authorization-mode=Node,RBAC",
		"--kubelet-client-certificate=" + certs.AdminCert,
		"--kubelet-client-key=" + certs.AdminKey,
		"--kubelet-certificate-authority=" + certs.CACert,
		"--kubelet-preferred-address-types=InternalIP",
	}
	if host == "127.0.0.1" {
		// A loopback address cannot back the "kubernetes" Service's endpoints.
		args = []string{"--bind-address=" + host, "--advertise-address=" + host, "--endpoint-reconciler-type=none", "--authorization-mode=RBAC"}
	}
	return append(args,
		"--etcd-servers="+etcdURL,
		"--secure-port="+strconv.Itoa(port),
		"--tls-cert-file="+certs.ServingCert,
		"--tls-private-key-file="+certs.ServingKey,
		"--client-ca-file="+certs.CACert,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+certs.ServiceAccountKey,
		"--service-account-signing-key-file="+certs.ServiceAccountKey,
		"--service-cluster-ip-range="+serviceCIDR,
		"--allow-privileged=true",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
	)
}

func controllerManagerArgs(certs pki, kubeconfig string) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--secure-port=0",
		"--leader-elect=false",
		"--service-account-private-key-file=" + certs.ServiceAccountKey,
		"--root-ca-file=" + certs.CACert,
		"--service-cluster-ip-range=" + serviceCIDR,
		"--use-service-account-credentials=false",
		"--profiling=false",
	}
}

func schedulerArgs(kubeconfig string) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--secure-port=0",
		"--leader-elect=false",
		"--profiling=false",
	}
}

func kwokArgs(kubeconfig, stages string) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--config=" + stages,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + kwokNodeAnnotation + "=fake",
		"--cidr=" + podCIDR,
	}
}

// probeClient bounds each readiness probe, so that a port held by something
// that never answers cannot stall the start.
var probeClient = &http.Client{Timeout: 2 * time.Second}

func waitHTTP(url string) readiness {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := probeClient.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", url, resp.Status)
		}
		return nil
	}
}

func waitAPIServer(client kubernetes.Interface) readiness {
	return func(ctx context.Context) error {
		return client.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).Error()
	}
}

// waitDefaultServiceAccount waits for the controller manager's first visible
// work: pods cannot be created in a namespace before its default
// ServiceAccount exists.
func waitDefaultServiceAccount(client kubernetes.Interface) readiness {
	return func(ctx context.Context) error {
		_, err := client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err
	}
}
