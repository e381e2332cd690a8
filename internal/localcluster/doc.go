// Package localcluster builds and runs a real Kubernetes control plane on
// loopback: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
// kwok, whose fake nodes run pods without a container runtime, so Deployments
// become Available and rolling updates finish.
//
// The binaries come from Go modules only (see hack/controlplane): Build
// compiles them once per version into a cache, and Start runs them with
// their own ports, data, certificates and an admin kubeconfig. It backs the
// quick start, `weir dev cluster` and every integration test.
//
// With Options.RealNode, Start also runs one real node, whose pods run in
// containers: containerd and runc from the host's packages, the kubelet and
// kube-proxy built like the control plane, CoreDNS for Service names, and
// the CNI bridge plugin for the pods' network. LoadImage puts images on it
// (nothing is pulled), and Stop removes everything it left on the machine.
package localcluster
