package localcluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOwnChainsRemoval checks the iptables-restore script that removes a
// real node's rules from the rules a running node left (with a pod, a
// hostPort and Services): the rules of built-in chains that jump to the
// node's chains are deleted, then those chains are flushed and deleted;
// Docker's chains, and the rules that lead there, stay.
func TestOwnChainsRemoval(t *testing.T) {
	save, err := os.ReadFile(filepath.Join("testdata", "iptables-save.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "iptables-removal.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if got := ownChainsRemoval(string(save), ownChainPrefixes); got != string(want) {
		t.Errorf("removal script:\n%s\nwant:\n%s", got, want)
	}
	if got := ownChainsRemoval("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n", ownChainPrefixes); got != "" {
		t.Errorf("rules without the node's chains give the script %q, want none", got)
	}
}

// TestCheckRealNodeHostNamesWhatIsMissing checks that on a machine without
// the node's commands the error names them and their Debian packages.
func TestCheckRealNodeHostNamesWhatIsMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := CheckRealNodeHost()
	if err == nil {
		t.Fatal("CheckRealNodeHost passes with no command on PATH")
	}
	want := []string{"containerd-shim-runc-v2", "runc", "conntrack", "install the Debian packages conntrack containerd iproute2 iptables mount nftables runc util-linux"}
	if os.Geteuid() != 0 {
		want = []string{"needs root"}
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not name %q", err, w)
		}
	}
}
