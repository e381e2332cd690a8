package localcluster

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

func TestRunReportsAComponentThatExits(t *testing.T) {
	opts, err := DefaultBuildOptions(".")
	if err != nil {
		t.Fatal(err)
	}
	bins, cached, err := Locate(opts)
	if err != nil || !cached {
		t.Skipf("control-plane binaries are not built (err %v)", err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	peer, err := FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}

	c := &Cluster{Dir: t.TempDir()}
	defer c.Stop()
	if err := c.makeDirs(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := "http://" + taken.Addr().String()
	err = c.run(ctx, Options{Binaries: bins}, "etcd", etcdArgs(c.Dir, url, peer[0]), waitHTTP(url+"/health"))
	if err == nil {
		t.Fatalf("etcd started on port %d, which was taken", port)
	}
	for _, want := range []string{"etcd exited unexpectedly", "address already in use"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}
