package localcluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// nodeHostFile records, machine-wide, the real node that runs or last ran
// on this machine: which cluster owns it and what to restore; it is
// changed only under the flock of nodeHostLock. /run is emptied at boot, as
// is everything the node leaves behind.
const (
	nodeHostFile = "/run/weir/real-node.json"
	nodeHostLock = "/run/weir/real-node.lock"
)

// nodeHost is the record of nodeHostFile.
type nodeHost struct {
	// Dir is the directory of the cluster that owns the node.
	Dir string `json:"dir"`
	// Owner is the process that started the cluster, as pid and start
	// time, so that a reused pid does not pass for it.
	Owner processID `json:"owner"`
	// MountNS identifies the node's mount namespace (mnt:[inode]); every
	// process in it (containerd, its shims, the kubelet) is the node's.
	MountNS string `json:"mountNS,omitempty"`
	// CreatedDirs are the mount points created on the host.
	CreatedDirs []string `json:"createdDirs,omitempty"`
	// Sysctls holds the values before the node started of those that
	// the kubelet, kube-proxy and the CNI plugins change.
	Sysctls map[string]string `json:"sysctls"`
	// NFTTables are the nftables tables there were before the node started.
	NFTTables []string `json:"nftTables"`
}

// nodeSysctls are the kernel settings the node's components change.
var nodeSysctls = []string{
	"net/ipv4/ip_forward",
	"net/ipv6/conf/all/forwarding",
	"net/ipv4/conf/all/route_localnet",
	"net/bridge/bridge-nf-call-iptables",
	"net/bridge/bridge-nf-call-ip6tables",
	"vm/overcommit_memory",
	"vm/panic_on_oom",
	"kernel/panic",
	"kernel/panic_on_oops",
	"kernel/keys/root_maxkeys",
	"kernel/keys/root_maxbytes",
	"net/netfilter/nf_conntrack_max",
}

// ownChainPrefixes name the iptables chains of the kubelet and kube-proxy
// (KUBE-), of the CNI plugins (CNI-) and of the node's own isolation rule.
var ownChainPrefixes = []string{"KUBE-", "CNI-", "WEIR-"}

func readNodeHost() (*nodeHost, error) {
	data, err := os.ReadFile(nodeHostFile)
	if err != nil {
		return nil, err
	}
	var h nodeHost
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("read %s: %w", nodeHostFile, err)
	}
	return &h, nil
}

func (h *nodeHost) save() error {
	data, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(nodeHostFile), 0o700); err != nil {
		return err
	}
	// Renamed into place: a reader never sees half a record.
	tmp := nodeHostFile + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, nodeHostFile)
}

func updateNodeHost(update func(*nodeHost)) error {
	unlock, err := lockNodeHost()
	if err != nil {
		return err
	}
	defer unlock()
	h, err := readNodeHost()
	if err != nil {
		return err
	}
	update(h)
	return h.save()
}

// claimNodeHost makes the cluster in dir the owner of this machine's real
// node: while another cluster's node runs, it waits (if wait is set) or
// fails; it cleans up what a node that was not stopped left behind,
// records what to restore, and creates the node's bridge with the node
// address.
func claimNodeHost(ctx context.Context, dir string, wait bool) error {
	for {
		busy, err := tryClaimNodeHost(ctx, dir)
		if err != nil || busy == "" {
			return err
		}
		if !wait {
			return fmt.Errorf("the local cluster in %s runs a real node, and a machine has room for one; stop it with `weir dev cluster down --dir %s`", busy, busy)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the real node of the local cluster in %s to stop: %w", busy, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

// tryClaimNodeHost claims the node unless another cluster's node runs, and
// then returns that cluster's directory.
func tryClaimNodeHost(ctx context.Context, dir string) (busy string, err error) {
	unlock, err := lockNodeHost()
	if err != nil {
		return "", err
	}
	defer unlock()
	if busy, err := reclaimNodeHost(ctx, dir); busy != "" || err != nil {
		return busy, err
	}
	owner, err := thisProcess()
	if err != nil {
		return "", err
	}
	h := &nodeHost{Dir: dir, Owner: owner, Sysctls: map[string]string{}, NFTTables: nftTables(ctx)}
	for _, key := range nodeSysctls {
		if v, err := os.ReadFile(filepath.Join("/proc/sys", key)); err == nil {
			h.Sysctls[key] = strings.TrimSpace(string(v))
		}
	}
	if err := h.save(); err != nil {
		return "", err
	}
	return "", createBridge(ctx)
}

// reclaimNodeHost, under the lock, cleans up the node that a cluster
// other than the one in dir left behind, unless it may still be running:
// then it returns that cluster's directory.
func reclaimNodeHost(ctx context.Context, dir string) (busy string, err error) {
	old, err := readNodeHost()
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if old.Dir != dir && old.inUse() {
		return old.Dir, nil
	}
	if err := old.cleanup(ctx); err != nil {
		return "", fmt.Errorf("clean up the real node the local cluster in %s left behind: %w", old.Dir, err)
	}
	return "", os.Remove(nodeHostFile)
}

// WaitForNoRealNode waits, for as long as ctx allows, until no cluster runs
// a real node on this machine, and cleans up what one that died left
// behind: the machine is then as it was before any real node ran.
func WaitForNoRealNode(ctx context.Context) error {
	for {
		unlock, err := lockNodeHost()
		if err != nil {
			return err
		}
		busy, err := reclaimNodeHost(ctx, "")
		unlock()
		if err != nil || busy == "" {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the real node of the local cluster in %s to stop: %w", busy, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

// inUse reports whether the node's cluster may still be running: one of
// its components runs, or, before it recorded any, the process that
// starts it lives. A cluster whose components all died (a test or a
// machine that crashed, a kill -9) is not.
func (h *nodeHost) inUse() bool {
	c, err := Attach(h.Dir)
	if err != nil || len(c.Processes) == 0 {
		return h.Owner.alive()
	}
	return slices.ContainsFunc(c.Processes, (*process).running)
}

// lockNodeHost takes the machine-wide lock under which nodeHostFile and
// what it records change, and returns its release.
func lockNodeHost() (func(), error) {
	if err := os.MkdirAll(filepath.Dir(nodeHostLock), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(nodeHostLock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", nodeHostLock, err)
	}
	// Closing the file releases the lock.
	return func() { _ = f.Close() }, nil
}

// processID identifies a process across pid reuse.
type processID struct {
	PID int `json:"pid"`
	// Start is the process's start time, in clock ticks after boot.
	Start string `json:"start"`
}

func thisProcess() (processID, error) {
	start, err := processStart(os.Getpid())
	return processID{PID: os.Getpid(), Start: start}, err
}

func (p processID) alive() bool {
	start, err := processStart(p.PID)
	return err == nil && start == p.Start && alive(p.PID)
}

// processStart reads the start time of pid from /proc.
func processStart(pid int) (string, error) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", err
	}
	// The fields after the command name, which is in parentheses;
	// starttime is the 20th of them.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(fields) < 20 {
		return "", fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	return fields[19], nil
}

// releaseNodeHost removes everything the real node of the cluster in dir
// left on the machine, if it owns the node.
func releaseNodeHost(ctx context.Context, dir string) error {
	unlock, err := lockNodeHost()
	if err != nil {
		return err
	}
	defer unlock()
	h, err := readNodeHost()
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if h.Dir != dir {
		return nil
	}
	if err := h.cleanup(ctx); err != nil {
		return err
	}
	return os.Remove(nodeHostFile)
}

// createBridge creates the pods' bridge, with the node address, before the
// API server starts: it serves on that address.
func createBridge(ctx context.Context) error {
	steps := [][]string{
		{"link", "add", nodeBridge, "type", "bridge"},
		{"addr", "add", nodeIP + "/24", "dev", nodeBridge},
		{"link", "set", nodeBridge, "up"},
	}
	for _, args := range steps {
		if err := command(ctx, "ip", args...); err != nil {
			return err
		}
	}
	return nil
}

// isolatePodNetwork rejects traffic from pods to anything beyond the
// node's bridge: they reach each other, the node address and Services,
// never another machine.
func isolatePodNetwork(ctx context.Context) error {
	steps := [][]string{
		{"-N", "WEIR-ISOLATE"},
		{"-A", "WEIR-ISOLATE", "-i", nodeBridge, "!", "-o", nodeBridge, "-j", "REJECT"},
		{"-I", "FORWARD", "1", "-j", "WEIR-ISOLATE"},
	}
	for _, args := range steps {
		if err := command(ctx, "iptables", args...); err != nil {
			return err
		}
	}
	return nil
}

// cleanup kills the node's processes and removes its cgroups, network and
// mount points, and restores the kernel settings it changed.
func (h *nodeHost) cleanup(ctx context.Context) error {
	errs := []error{killNodeProcesses(h.MountNS)}
	errs = append(errs, removeCgroups()...)
	errs = append(errs, removeBridge(ctx))
	for _, family := range []string{"iptables", "ip6tables"} {
		errs = append(errs, removeOwnChains(ctx, family))
	}
	errs = append(errs, removeNewNFTTables(ctx, h.NFTTables))
	// Entries of the pods' and Services' addresses would outlive them.
	for _, flt := range [][]string{{"-s", "10.244.255.0", "--mask-src", "255.255.255.0"}, {"-d", "10.244.255.0", "--mask-dst", "255.255.255.0"}, {"-d", "10.96.0.0", "--mask-dst", "255.255.0.0"}} {
		_ = exec.CommandContext(ctx, "conntrack", append([]string{"-D"}, flt...)...).Run()
	}
	for key, value := range h.Sysctls {
		if err := os.WriteFile(filepath.Join("/proc/sys", key), []byte(value), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restore sysctl %s: %w", key, err))
		}
	}
	for _, dir := range h.CreatedDirs {
		if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeBridge deletes the pods' veth interfaces and the bridge. The
// kernel would delete the veths with the pods' network namespaces, but
// only some time after their last process is gone.
func removeBridge(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "ip", "-o", "link", "show", "master", nodeBridge).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "does not exist") || strings.Contains(string(out), "Cannot find device") {
			return nil
		}
		return fmt.Errorf("list the interfaces of bridge %s: %w: %s", nodeBridge, err, out)
	}
	var links []string
	for _, line := range strings.Split(string(out), "\n") {
		// "7: vethabc@if2: <...> ..."
		if f := strings.Fields(line); len(f) > 1 {
			links = append(links, strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0])
		}
	}
	var errs []error
	for _, link := range append(links, nodeBridge) {
		if err := command(ctx, "ip", "link", "del", link); err != nil && !strings.Contains(err.Error(), "Cannot find device") {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// killNodeProcesses kills the processes of the node's pods (in the
// kubepods cgroups) and of its mount namespace (containerd, its shims, the
// kubelet), until none is left.
func killNodeProcesses(mountNS string) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		pids := append(cgroupProcs(), mountNSProcs(mountNS)...)
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes of the real node did not die: %v", pids)
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cgroupRoots are the top-level cgroups the kubelet and containerd create
// in each hierarchy.
var cgroupRoots = []string{"kubepods", "k8s.io"}

func cgroupDirs() []string {
	var dirs []string
	hierarchies, _ := filepath.Glob("/sys/fs/cgroup/*")
	hierarchies = append(hierarchies, "/sys/fs/cgroup")
	for _, h := range hierarchies {
		for _, root := range cgroupRoots {
			_ = filepath.WalkDir(filepath.Join(h, root), func(path string, d fs.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					dirs = append(dirs, path)
				}
				return nil
			})
		}
	}
	return dirs
}

func cgroupProcs() []int {
	var pids []int
	for _, dir := range cgroupDirs() {
		data, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

func mountNSProcs(mountNS string) []int {
	if mountNS == "" {
		return nil
	}
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if ns, err := os.Readlink("/proc/" + e.Name() + "/ns/mnt"); err == nil && ns == mountNS {
			pids = append(pids, pid)
		}
	}
	return pids
}

// removeCgroups removes the node's cgroups, deepest first.
func removeCgroups() []error {
	dirs := cgroupDirs()
	slices.SortFunc(dirs, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	var errs []error
	for _, dir := range dirs {
		var err error
		for range 20 {
			if err = syscall.Rmdir(dir); err == nil || errors.Is(err, syscall.ENOENT) {
				err = nil
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", dir, err))
		}
	}
	return errs
}

// removeOwnChains deletes the node's iptables chains and the rules that
// jump to them, in one iptables-restore that leaves every other rule be.
func removeOwnChains(ctx context.Context, family string) error {
	out, err := exec.CommandContext(ctx, family+"-save").Output()
	if err != nil {
		return fmt.Errorf("%s-save: %w", family, err)
	}
	script := ownChainsRemoval(string(out), ownChainPrefixes)
	if script == "" {
		return nil
	}
	cmd := exec.CommandContext(ctx, family+"-restore", "--noflush")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s-restore: %w: %s", family, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// ownChainsRemoval turns iptables-save output into an iptables-restore
// script that deletes the rules of other chains that jump to a chain
// whose name has one of prefixes, then flushes and deletes those chains.
// It returns "" when there is nothing to remove.
func ownChainsRemoval(save string, prefixes []string) string {
	own := func(chain string) bool {
		return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(chain, p) })
	}
	var script strings.Builder
	var table string
	var deletes, chains []string
	for _, line := range strings.Split(save, "\n") {
		fields := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "*"):
			table, deletes, chains = line, nil, nil
		case strings.HasPrefix(line, ":") && len(fields) > 0 && own(fields[0][1:]):
			chains = append(chains, fields[0][1:])
		case len(fields) > 2 && fields[0] == "-A" && !own(fields[1]) && jumpsToOwn(fields, own):
			deletes = append(deletes, "-D"+strings.TrimPrefix(line, "-A"))
		case line == "COMMIT" && (len(deletes) > 0 || len(chains) > 0):
			fmt.Fprintln(&script, table)
			for _, d := range deletes {
				fmt.Fprintln(&script, d)
			}
			for _, c := range chains {
				fmt.Fprintln(&script, "-F", c)
			}
			for _, c := range chains {
				fmt.Fprintln(&script, "-X", c)
			}
			fmt.Fprintln(&script, "COMMIT")
		}
	}
	return script.String()
}

func jumpsToOwn(fields []string, own func(string) bool) bool {
	for i := 0; i+1 < len(fields); i++ {
		if (fields[i] == "-j" || fields[i] == "-g") && own(fields[i+1]) {
			return true
		}
	}
	return false
}

// nftTables lists the nftables tables as "family name".
func nftTables(ctx context.Context) []string {
	out, err := exec.CommandContext(ctx, "nft", "list", "tables").Output()
	if err != nil {
		return nil
	}
	var tables []string
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "table "); ok {
			tables = append(tables, rest)
		}
	}
	return tables
}

// removeNewNFTTables deletes the nftables tables that were not there
// before the node started: those of kube-proxy, and those iptables' nft
// backend made for the node's rules.
func removeNewNFTTables(ctx context.Context, before []string) error {
	var errs []error
	for _, t := range nftTables(ctx) {
		if !slices.Contains(before, t) {
			errs = append(errs, command(ctx, "nft", append([]string{"delete", "table"}, strings.Fields(t)...)...))
		}
	}
	return errors.Join(errs...)
}
