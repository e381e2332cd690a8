package localcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Options configure a local control plane.
type Options struct {
	// Binaries to run; see Build.
	Binaries Binaries
	// Dir holds data, certificates, logs and the kubeconfig. When empty, a
	// temporary directory is used and removed by Stop.
	Dir string
	// Nodes is the number of kwok nodes; zero means one.
	Nodes int
	// Detach lets the processes outlive the caller (for `weir dev cluster
	// up`); otherwise they die with it.
	Detach bool
	// ReadyTimeout bounds the whole start; zero means two minutes.
	ReadyTimeout time.Duration
	// RealNode adds a real node (containerd, kubelet, kube-proxy and
	// CoreDNS) beside the kwok nodes; see CheckRealNodeHost for what it
	// needs. One machine runs one real node at a time.
	RealNode bool
	// WaitForNode makes Start wait, for as long as ctx allows, while
	// another cluster's real node runs on this machine, rather than
	// fail; tests in several packages that run at once need it.
	WaitForNode bool
}

// Cluster is a running local control plane.
type Cluster struct {
	// Config is an admin (system:masters) client configuration.
	Config *rest.Config `json:"-"`
	// Kubeconfig is the path of a kubeconfig file with the same identity.
	Kubeconfig string `json:"kubeconfig"`
	// Dir holds the cluster's data, certificates and logs.
	Dir string `json:"dir"`
	// Processes are the running components, in start order.
	Processes []*process `json:"processes"`
	// RealNode says whether the cluster has a real node.
	RealNode bool `json:"realNode,omitempty"`

	removeDir bool
}

// stopGrace is how long a component has to exit after SIGTERM.
const stopGrace = 10 * time.Second

// Start runs a control plane and returns once the API server is ready, the
// controllers and scheduler run and every kwok node is Ready. On failure it
// stops whatever it started.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if err := opts.Binaries.Check(); err != nil {
		return nil, err
	}
	if opts.RealNode {
		if err := CheckRealNodeHost(); err != nil {
			return nil, err
		}
		if err := opts.Binaries.CheckNode(); err != nil {
			return nil, err
		}
	}
	opts = withDefaults(opts)
	c := &Cluster{}
	if opts.Dir != "" {
		// The kubeconfig names certificate files, which clients resolve
		// relative to the kubeconfig: keep every path absolute.
		dir, err := filepath.Abs(opts.Dir)
		if err != nil {
			return nil, err
		}
		c.Dir = dir
	} else {
		dir, err := os.MkdirTemp("", "weir-cluster-")
		if err != nil {
			return nil, err
		}
		c.Dir, c.removeDir = dir, true
	}
	if opts.RealNode {
		// Before ReadyTimeout runs: the wait for another node is not
		// part of the start.
		c.RealNode = true
		if err := claimNodeHost(ctx, c.Dir, opts.WaitForNode); err != nil {
			return nil, errors.Join(err, c.Stop())
		}
	}
	ctx, cancel := context.WithTimeout(ctx, opts.ReadyTimeout)
	defer cancel()
	if err := c.start(ctx, opts); err != nil {
		return nil, errors.Join(err, c.Stop())
	}
	return c, nil
}

func withDefaults(opts Options) Options {
	if opts.Nodes <= 0 {
		opts.Nodes = 1
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 2 * time.Minute
	}
	return opts
}

// makeDirs creates the directories the components write to.
func (c *Cluster) makeDirs() error {
	for _, d := range []string{"logs", "etcd"} {
		if err := os.MkdirAll(filepath.Join(c.Dir, d), 0o700); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) start(ctx context.Context, opts Options) error {
	if err := c.makeDirs(); err != nil {
		return err
	}
	certs, err := writePKI(filepath.Join(c.Dir, "pki"))
	if err != nil {
		return err
	}
	host := "127.0.0.1"
	if opts.RealNode {
		host = nodeIP
	}
	ports, err := FreePorts(3)
	if err != nil {
		return err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	if err := c.run(ctx, opts, "etcd", etcdArgs(c.Dir, etcdURL, ports[1]), waitHTTP(etcdURL+"/health")); err != nil {
		return err
	}
	c.Config = adminConfig(certs, host, ports[2])
	if c.Kubeconfig, err = writeKubeconfig(c.Config, filepath.Join(c.Dir, "kubeconfig")); err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	if err := c.run(ctx, opts, "kube-apiserver", apiserverArgs(certs, etcdURL, host, ports[2]), waitAPIServer(client)); err != nil {
		return err
	}
	if err := c.run(ctx, opts, "kube-controller-manager", controllerManagerArgs(certs, c.Kubeconfig), waitDefaultServiceAccount(client)); err != nil {
		return err
	}
	if err := c.run(ctx, opts, "kube-scheduler", schedulerArgs(c.Kubeconfig), nil); err != nil {
		return err
	}
	if err := c.run(ctx, opts, "kwok", kwokArgs(c.Kubeconfig, opts.Binaries.kwokStages()), nil); err != nil {
		return err
	}
	if err := c.addNodes(ctx, client, opts.Nodes); err != nil {
		return err
	}
	if opts.RealNode {
		return c.startNode(ctx, opts, certs, client)
	}
	return nil
}

// readiness blocks until a component serves, or returns an error.
type readiness func(ctx context.Context) error

// run starts one component and waits until ready reports it serving, while
// watching that the process does not exit.
func (c *Cluster) run(ctx context.Context, opts Options, name string, args []string, ready readiness) error {
	return c.runCommand(ctx, opts, name, opts.Binaries.Path(name), args, ready)
}

// runCommand is run for a component started by the command bin.
func (c *Cluster) runCommand(ctx context.Context, opts Options, name, bin string, args []string, ready readiness) error {
	p, err := startProcess(name, bin, args, filepath.Join(c.Dir, "logs", name+".log"), opts.Detach)
	if err != nil {
		return err
	}
	c.Processes = append(c.Processes, p)
	if err := c.saveState(); err != nil {
		return err
	}
	if ready == nil {
		ready = func(context.Context) error { return nil }
	}
	return poll(ctx, name, func(ctx context.Context) (bool, error) {
		if !p.running() {
			return false, p.exitError()
		}
		return ready(ctx) == nil, nil
	})
}

// poll calls check until it reports done, fails, or ctx ends.
func poll(ctx context.Context, what string, check func(context.Context) (bool, error)) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		done, err := check(ctx)
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// Stop stops every component, removes what a real node left on the
// machine and, for a temporary cluster, removes its data.
func (c *Cluster) Stop() error {
	err := stopAll(c.Processes, stopGrace)
	if c.RealNode {
		err = errors.Join(err, releaseNodeHost(context.Background(), c.Dir))
	}
	if err == nil && c.removeDir {
		err = os.RemoveAll(c.Dir)
	}
	return err
}

// stateFile records a detached cluster so that another process can find
// and stop it.
const stateFile = "cluster.json"

func (c *Cluster) saveState() error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(c.Dir, stateFile), data, 0o600)
}

// Attach returns the cluster that a detached Start left running in dir.
func Attach(dir string) (*Cluster, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no local cluster in %s", dir)
	}
	if err != nil {
		return nil, err
	}
	c := &Cluster{}
	if err := json.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, stateFile), err)
	}
	if c.Config, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig); err != nil {
		return nil, err
	}
	return c, nil
}

// StopComponent stops one running component by name ("kube-apiserver",
// say), leaving the others running; Stop stops them all still.
func (c *Cluster) StopComponent(name string) error {
	for _, p := range c.Processes {
		if p.Name == name {
			return p.stop(stopGrace)
		}
	}
	return fmt.Errorf("no component %q in the cluster in %s", name, c.Dir)
}

// Running reports whether every component of the cluster is still running.
func (c *Cluster) Running() bool {
	for _, p := range c.Processes {
		if !p.running() {
			return false
		}
	}
	return len(c.Processes) > 0
}

// FreePorts returns n distinct loopback ports that were free a moment ago,
// outside the ephemeral ports (see freePortsOn).
func FreePorts(n int) ([]int, error) {
	return freePortsOn("127.0.0.1", n)
}

// freePortsOn returns n distinct ports of host that were free a moment ago,
// chosen outside the kernel's range of ephemeral ports: a port the kernel
// picked would go back to that range when closed, where any connection
// made before the component binds it may take it (etcd once failed so,
// "address already in use", while other clusters started beside it).
func freePortsOn(host string, n int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	low, high := ephemeralPorts()
	for try := 0; len(ports) < n; try++ {
		if try == maxPortTries {
			return nil, fmt.Errorf("find %d free ports on %s outside the ephemeral ports %d-%d: none free after %d tries", n, host, low, high, try)
		}
		port := firstPort + rand.IntN(lastPort-firstPort+1)
		if port >= low && port <= high {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			continue
		}
		listeners = append(listeners, l)
		ports = append(ports, port)
	}
	return ports, nil
}

// The ports freePortsOn draws from, and how many draws it makes at most.
const (
	firstPort, lastPort = 10000, 65535
	maxPortTries        = 1000
)

// ephemeralPorts is the kernel's range of ephemeral ports, Linux's default
// where it cannot be read.
func ephemeralPorts() (low, high int) {
	low, high = 32768, 60999
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return low, high
	}
	var l, h int
	if _, err := fmt.Sscanf(string(data), "%d %d", &l, &h); err != nil || l > h {
		return low, high
	}
	return l, h
}

func adminConfig(certs pki, host string, port int) *rest.Config {
	return &rest.Config{
		Host: "https://" + net.JoinHostPort(host, strconv.Itoa(port)),
		TLSClientConfig: rest.TLSClientConfig{
			CAFile:   certs.CACert,
			CertFile: certs.AdminCert,
			KeyFile:  certs.AdminKey,
		},
		QPS:   100,
		Burst: 200,
	}
}

func writeKubeconfig(cfg *rest.Config, path string) (string, error) {
	const name = "weir-local"
	kc := clientcmdapi.NewConfig()
	kc.Clusters[name] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthority: cfg.CAFile}
	kc.AuthInfos[name] = &clientcmdapi.AuthInfo{ClientCertificate: cfg.CertFile, ClientKey: cfg.KeyFile}
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: "default"}
	kc.CurrentContext = name
	return path, clientcmd.WriteToFile(*kc, path)
}
