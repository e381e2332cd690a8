package realnode

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// nodeCommands are the names of the processes a real node runs.
var nodeCommands = []string{"containerd", "containerd-shim", "containerd-shim-runc-v2", "kubelet", "kube-proxy", "coredns", "entrypoint", "pause"}

// leftovers lists what a stopped real node left on the machine: network
// interfaces, iptables rules of the kubelet, kube-proxy and the CNI
// plugins, live processes, mounts and cgroups.
func leftovers(t *testing.T) []string {
	t.Helper()
	var found []string
	links, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(links), "\n") {
		if f := strings.Fields(line); len(f) > 1 && (strings.HasPrefix(f[1], "weir0") || strings.HasPrefix(f[1], "veth")) {
			found = append(found, "interface "+strings.TrimSuffix(f[1], ":"))
		}
	}
	for _, family := range []string{"iptables-save", "ip6tables-save"} {
		rules, err := exec.Command(family).Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(rules), "\n") {
			if strings.Contains(line, "KUBE-") || strings.Contains(line, "CNI-") || strings.Contains(line, "WEIR-") {
				found = append(found, family+": "+line)
			}
		}
	}
	found = append(found, liveNodeProcesses()...)
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mounts), "\n") {
		for _, path := range []string{"/var/lib/kubelet", "/run/containerd", "/var/lib/containerd", "/run/netns", "weir-node-"} {
			if strings.Contains(line, path) {
				found = append(found, "mount "+line)
			}
		}
	}
	cgroups, _ := filepath.Glob("/sys/fs/cgroup/*/kubepods")
	for _, cg := range cgroups {
		found = append(found, "cgroup "+cg)
	}
	if _, err := os.Stat("/run/weir/real-node.json"); err == nil {
		found = append(found, "/run/weir/real-node.json")
	}
	return found
}

// liveNodeProcesses lists the processes, zombies aside, whose command is
// one of the node's.
func liveNodeProcesses() []string {
	var found []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
		if open < 0 || end < open || end+2 >= len(stat) || stat[end+2] == 'Z' {
			continue
		}
		comm := string(stat[open+1 : end])
		for _, name := range nodeCommands {
			// comm is cut to 15 characters.
			if comm == name || (len(comm) == 15 && strings.HasPrefix(name, comm)) {
				found = append(found, "process "+e.Name()+" "+comm)
			}
		}
	}
	return found
}

// changedSettings are kernel settings the kubelet, kube-proxy and the CNI
// plugins change.
var changedSettings = []string{"net/ipv4/ip_forward", "vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops"}

// hostSettings reads changedSettings and the list of nftables tables.
func hostSettings(t *testing.T) map[string]string {
	t.Helper()
	settings := map[string]string{}
	for _, key := range changedSettings {
		v, err := os.ReadFile(filepath.Join("/proc/sys", key))
		if err != nil {
			t.Fatal(err)
		}
		settings["sysctl "+key] = strings.TrimSpace(string(v))
	}
	tables, err := exec.Command("nft", "list", "tables").Output()
	if err != nil {
		t.Fatal(err)
	}
	settings["nftables tables"] = strings.TrimSpace(string(tables))
	return settings
}
