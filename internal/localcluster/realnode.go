package localcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

// RealNodeName is the name of the real node. RealNodeLabel=RealNodeValue
// is both its label and its NoSchedule taint, so that only pods that
// select it and tolerate it run there, and the kwok nodes keep every other
// pod.
const (
	RealNodeName  = nodeName
	RealNodeLabel = "weir.dev/node"
	RealNodeValue = "real"
)

// The real node's network: its pods get addresses of nodeSubnet on the
// bridge nodeBridge, whose own address nodeIP is the node's address, where
// the API server, the kubelet and CoreDNS listen, so that pods reach them.
// nodeSubnet lies in podCIDR, at its end, far from the addresses kwok hands
// out from its start.
const (
	nodeName     = "weir-node"
	nodeBridge   = "weir0"
	nodeIP       = "10.244.255.1"
	nodeSubnet   = "10.244.255.0/24"
	clusterDNSIP = "10.96.0.10"
	// cniBinDir is where Debian's containernetworking-plugins installs.
	cniBinDir = "/usr/lib/cni"
	// pauseImage is the sandbox image, built from the pause binary.
	pauseImage = "weir.local/pause:1"
)

// nodeCommands are the host's commands a real node runs, and the Debian
// packages that install them.
var nodeCommands = map[string]string{
	"containerd":              "containerd",
	"containerd-shim-runc-v2": "containerd",
	"ctr":                     "containerd",
	"runc":                    "runc",
	"iptables":                "iptables",
	"iptables-save":           "iptables",
	"iptables-restore":        "iptables",
	"ip6tables-save":          "iptables",
	"ip6tables-restore":       "iptables",
	"conntrack":               "conntrack",
	"nft":                     "nftables",
	"ip":                      "iproute2",
	"nsenter":                 "util-linux",
	"unshare":                 "util-linux",
	"mount":                   "mount",
}

// cniPlugins are the CNI plugins the node's network uses.
var cniPlugins = []string{"bridge", "host-local", "loopback", "portmap"}

// CheckRealNodeHost reports why this machine cannot run a real node: not
// root, or missing commands or CNI plugins, named with their Debian
// packages.
func CheckRealNodeHost() error {
	if os.Geteuid() != 0 {
		return errors.New("a real node needs root: it creates network interfaces, iptables rules, cgroups and mounts")
	}
	var missing []string
	packages := map[string]bool{}
	for cmd, pkg := range nodeCommands {
		if _, err := exec.LookPath(cmd); err != nil {
			missing, packages[pkg] = append(missing, cmd), true
		}
	}
	for _, plugin := range cniPlugins {
		if _, err := os.Stat(filepath.Join(cniBinDir, plugin)); err != nil {
			missing, packages["containernetworking-plugins"] = append(missing, filepath.Join(cniBinDir, plugin)), true
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var pkgs []string
	for pkg := range packages {
		pkgs = append(pkgs, pkg)
	}
	slices.Sort(missing)
	slices.Sort(pkgs)
	return fmt.Errorf("a real node needs %s; install the Debian packages %s", strings.Join(missing, ", "), strings.Join(pkgs, " "))
}

// nodeFiles are the real node's configuration files, under the cluster's
// directory.
type nodeFiles struct {
	root                                           string
	containerd, cni, kubelet, kubeletKubeconfig    string
	proxy, proxyKubeconfig, corefile, pauseTarball string
}

func newNodeFiles(dir string) nodeFiles {
	root := filepath.Join(dir, "node")
	return nodeFiles{
		root:              root,
		containerd:        filepath.Join(root, "containerd.toml"),
		cni:               filepath.Join(root, "net.d"),
		kubelet:           filepath.Join(root, "kubelet.yaml"),
		kubeletKubeconfig: filepath.Join(root, "kubelet.kubeconfig"),
		proxy:             filepath.Join(root, "kube-proxy.yaml"),
		proxyKubeconfig:   filepath.Join(root, "kube-proxy.kubeconfig"),
		corefile:          filepath.Join(root, "Corefile"),
		pauseTarball:      filepath.Join(root, "pause.tar"),
	}
}

// startNode runs the real node beside the control plane: containerd and
// the kubelet in a private mount namespace, kube-proxy, and CoreDNS with
// its kube-dns Service; it returns once the node is Ready.
func (c *Cluster) startNode(ctx context.Context, opts Options, certs pki, client kubernetes.Interface) error {
	files := newNodeFiles(c.Dir)
	if err := c.writeNodeFiles(files, certs); err != nil {
		return err
	}
	ns, err := c.startMountNamespace(ctx, opts, files.root)
	if err != nil {
		return err
	}
	inNS := func(bin string, args ...string) []string {
		return append([]string{"--mount=/proc/" + strconv.Itoa(ns) + "/ns/mnt", "--", bin}, args...)
	}
	containerd, _ := exec.LookPath("containerd")
	if err := c.runCommand(ctx, opts, "containerd", "nsenter", inNS(containerd, "--config", files.containerd), c.containerdServes); err != nil {
		return err
	}
	if err := WriteBinaryImage(opts.Binaries.Path("pause"), pauseImage, files.pauseTarball); err != nil {
		return err
	}
	if err := c.LoadImage(ctx, files.pauseTarball); err != nil {
		return err
	}
	if err := isolatePodNetwork(ctx); err != nil {
		return err
	}
	if err := c.run(ctx, opts, "kube-proxy", []string{"--config=" + files.proxy}, nil); err != nil {
		return err
	}
	kubelet := inNS(opts.Binaries.Path("kubelet"), kubeletArgs(files)...)
	if err := c.runCommand(ctx, opts, "kubelet", "nsenter", kubelet, readyFrom(nodeReady(client, nodeName))); err != nil {
		return err
	}
	return c.startCoreDNS(ctx, opts, files, client)
}

// readyFrom turns a polled check into a readiness.
func readyFrom(check func(context.Context) (bool, error)) readiness {
	return func(ctx context.Context) error {
		ok, err := check(ctx)
		if err == nil && !ok {
			err = errors.New("not yet")
		}
		return err
	}
}

// nodeMounts are the paths that containerd and the kubelet hard-code, each
// bind-mounted from a directory of the cluster inside the node's mount
// namespace: what they write stays in the cluster's directory, and the
// mounts they make (container root file systems, volumes, network
// namespaces) stay out of the host's mount table.
var nodeMounts = []string{
	"/run/containerd",
	"/run/netns",
	"/var/lib/containerd",
	"/var/lib/kubelet",
	"/var/lib/cni",
	"/var/log/pods",
	"/var/log/containers",
}

// startMountNamespace starts a process that holds a private mount
// namespace, bind-mounts nodeMounts in it, and returns the process's pid.
func (c *Cluster) startMountNamespace(ctx context.Context, opts Options, root string) (int, error) {
	if err := c.runCommand(ctx, opts, "node-namespace", "unshare", []string{"--mount", "--propagation", "private", "--", "sleep", "infinity"}, nil); err != nil {
		return 0, err
	}
	pid := c.Processes[len(c.Processes)-1].PID
	hostNS, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		return 0, err
	}
	var ns string
	err = poll(ctx, "the node's mount namespace", func(context.Context) (bool, error) {
		ns, err = os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/mnt")
		return err == nil && ns != hostNS, err
	})
	if err != nil {
		return 0, err
	}
	created, err := makeMountPoints()
	if err != nil {
		return 0, err
	}
	if err := updateNodeHost(func(h *nodeHost) { h.MountNS, h.CreatedDirs = ns, created }); err != nil {
		return 0, err
	}
	for _, target := range nodeMounts {
		src := filepath.Join(root, "mounts", strings.ReplaceAll(strings.TrimPrefix(target, "/"), "/", "-"))
		if err := os.MkdirAll(src, 0o700); err != nil {
			return 0, err
		}
		if err := command(ctx, "nsenter", "--mount=/proc/"+strconv.Itoa(pid)+"/ns/mnt", "--", "mount", "--bind", src, target); err != nil {
			return 0, err
		}
	}
	return pid, nil
}

// makeMountPoints creates the mount points that do not exist on the host
// and returns them, for cleanup to remove.
func makeMountPoints() ([]string, error) {
	var created []string
	for _, target := range nodeMounts {
		for dir := target; dir != "/"; dir = filepath.Dir(dir) {
			if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
				created = append(created, dir)
			}
		}
		if err := os.MkdirAll(target, 0o755); err != nil {
			return created, err
		}
	}
	slices.Sort(created)
	// Deepest first, so that cleanup removes children before parents.
	created = slices.Compact(created)
	slices.Reverse(created)
	return created, nil
}

// containerdServes reports whether containerd answers on its socket.
func (c *Cluster) containerdServes(ctx context.Context) error {
	return c.ctr(ctx, "version")
}

// ctr runs containerd's client in containerd's mount namespace, where its
// socket is, on the namespace the CRI plugin uses.
func (c *Cluster) ctr(ctx context.Context, args ...string) error {
	p := c.process("containerd")
	if p == nil {
		return fmt.Errorf("the local cluster in %s has no real node (start it with `weir dev cluster up --real-node`)", c.Dir)
	}
	return command(ctx, "nsenter", append([]string{"--mount=/proc/" + strconv.Itoa(p.PID) + "/ns/mnt", "--", "ctr", "--namespace", "k8s.io"}, args...)...)
}

// LoadImage imports an image tarball (as `docker save` writes it, or an
// OCI image layout in a tar that names its image) into the real node, so
// that pods on it can run the image without pulling it.
func (c *Cluster) LoadImage(ctx context.Context, tarball string) error {
	abs, err := filepath.Abs(tarball)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("load image: %w", err)
	}
	if err := c.ctr(ctx, "images", "import", abs); err != nil {
		return fmt.Errorf("load image %s: %w", tarball, err)
	}
	return nil
}

func (c *Cluster) process(name string) *process {
	for _, p := range c.Processes {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// startCoreDNS runs CoreDNS on the host, serving the node address, and the
// kube-dns Service that sends the kubelet's cluster DNS address there. A
// process rather than a pod, it needs no image, serves before the first
// pod starts, and stops with the other components.
func (c *Cluster) startCoreDNS(ctx context.Context, opts Options, files nodeFiles, client kubernetes.Interface) error {
	ports, err := FreePorts(2)
	if err != nil {
		return err
	}
	health, ready := "127.0.0.1:"+strconv.Itoa(ports[0]), "127.0.0.1:"+strconv.Itoa(ports[1])
	if err := os.WriteFile(files.corefile, []byte(corefile(c.Kubeconfig, health, ready)), 0o600); err != nil {
		return err
	}
	if err := c.run(ctx, opts, "coredns", []string{"-conf", files.corefile}, waitHTTP("http://"+ready+"/ready")); err != nil {
		return err
	}
	return createKubeDNS(ctx, client)
}

// createKubeDNS creates the kube-dns Service at the cluster DNS address,
// with no selector, and its endpoints: CoreDNS on the node address.
func createKubeDNS(ctx context.Context, client kubernetes.Interface) error {
	labels := map[string]string{"k8s-app": "kube-dns"}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Namespace: metav1.NamespaceSystem, Labels: labels},
		Spec: corev1.ServiceSpec{ClusterIP: clusterDNSIP, Ports: []corev1.ServicePort{
			{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
			{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)},
		}},
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-dns-coredns", Namespace: metav1.NamespaceSystem, Labels: map[string]string{
			discoveryv1.LabelServiceName: "kube-dns",
			discoveryv1.LabelManagedBy:   "localcluster.weir.dev",
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{nodeIP}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		Ports: []discoveryv1.EndpointPort{
			{Name: ptr.To("dns"), Port: ptr.To[int32](53), Protocol: ptr.To(corev1.ProtocolUDP)},
			{Name: ptr.To("dns-tcp"), Port: ptr.To[int32](53), Protocol: ptr.To(corev1.ProtocolTCP)},
		},
	}
	if _, err := client.CoreV1().Services(svc.Namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create Service kube-system/kube-dns: %w", err)
	}
	if _, err := client.DiscoveryV1().EndpointSlices(slice.Namespace).Create(ctx, slice, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create EndpointSlice kube-system/%s: %w", slice.Name, err)
	}
	return nil
}

// writeNodeFiles writes the configuration of containerd, the CNI network,
// the kubelet and kube-proxy, and their kubeconfigs.
func (c *Cluster) writeNodeFiles(files nodeFiles, certs pki) error {
	if err := os.MkdirAll(files.cni, 0o700); err != nil {
		return err
	}
	kubeletClient := rest.CopyConfig(c.Config)
	kubeletClient.CertFile, kubeletClient.KeyFile = certs.KubeletCert, certs.KubeletKey
	proxyClient := rest.CopyConfig(c.Config)
	proxyClient.CertFile, proxyClient.KeyFile = certs.ProxyCert, certs.ProxyKey
	if _, err := writeKubeconfig(kubeletClient, files.kubeletKubeconfig); err != nil {
		return err
	}
	if _, err := writeKubeconfig(proxyClient, files.proxyKubeconfig); err != nil {
		return err
	}
	for path, data := range map[string]string{
		files.containerd: containerdConfig(files.cni),
		filepath.Join(files.cni, "10-weir.conflist"): cniConfig(),
		files.kubelet: kubeletConfig(certs),
		files.proxy:   proxyConfig(files.proxyKubeconfig),
	} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// command runs a host command and returns its output in the error when it
// fails.
func command(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
