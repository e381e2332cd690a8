package localcluster

import (
	"fmt"
	"strings"
)

// containerdConfig is containerd 1.6's configuration for the real node. Its
// root and state are the defaults, bind-mounted from the cluster's
// directory. restrict_oom_score_adj is needed where root lacks
// CAP_SYS_RESOURCE (as in some VMs): without it runc fails to lower the
// sandbox's oom_score_adj and every pod fails to start.
func containerdConfig(cniConfDir string) string {
	return fmt.Sprintf(`version = 2
root = "/var/lib/containerd"
state = "/run/containerd"

[grpc]
  address = "/run/containerd/containerd.sock"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %q
    conf_dir = %q
`, pauseImage, cniBinDir, cniConfDir)
}

// cniConfig is the pod network: one bridge, whose address is the node's,
// addresses from nodeSubnet, and no masquerading, since pods are to reach
// nothing beyond this machine.
func cniConfig() string {
	return fmt.Sprintf(`{
  "cniVersion": "0.4.0",
  "name": "weir",
  "plugins": [
    {
      "type": "bridge",
      "bridge": %q,
      "isGateway": true,
      "hairpinMode": true,
      "ipam": {"type": "host-local", "ranges": [[{"subnet": %q, "gateway": %q}]], "routes": [{"dst": "0.0.0.0/0"}]}
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`, nodeBridge, nodeSubnet, nodeIP)
}

// kubeletConfig is the kubelet's configuration. The API server reaches it
// on the node address with the admin certificate (x509 only, no anonymous
// access); image garbage collection is off, since images cannot be pulled
// again; eviction thresholds are low, since a laptop's disk is often more
// than 85% full; cgroup v1 is allowed.
func kubeletConfig(certs pki) string {
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: %s
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: %s
tlsPrivateKeyFile: %s
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: %s}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
clusterDomain: cluster.local
clusterDNS: [%s]
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 50Mi, nodefs.available: 1%%, imagefs.available: 1%%, nodefs.inodesFree: 1%%}
registerWithTaints:
- {key: %s, value: %s, effect: NoSchedule}
serializeImagePulls: false
`, nodeIP, certs.KubeletServingCert, certs.KubeletServingKey, certs.CACert, clusterDNSIP, RealNodeLabel, RealNodeValue)
}

func kubeletArgs(files nodeFiles) []string {
	return []string{
		"--config=" + files.kubelet,
		"--kubeconfig=" + files.kubeletKubeconfig,
		"--hostname-override=" + nodeName,
		"--node-ip=" + nodeIP,
		"--node-labels=" + RealNodeLabel + "=" + RealNodeValue,
	}
}

// proxyConfig is kube-proxy's configuration: iptables mode, leaving the
// host's conntrack settings and route_localnet alone.
func proxyConfig(kubeconfig string) string {
	return fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: %s}
mode: iptables
hostnameOverride: %s
clusterCIDR: %s
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {localhostNodePorts: false}
nodePortAddresses: [%s/32]
`, kubeconfig, nodeName, podCIDR, nodeIP)
}

// corefile serves cluster.local from the API server on the node address,
// port 53; names outside the cluster get no answer, as pods reach nothing
// beyond this machine.
func corefile(kubeconfig, health, ready string) string {
	return strings.TrimLeft(fmt.Sprintf(`
.:53 {
    bind %s
    errors
    health %s
    ready %s
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig %s weir-local
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
    loadbalance
}
`, nodeIP, health, ready, kubeconfig), "\n")
}
