// Command etcd is etcd's server, built from its Go module so that the local
// control plane needs nothing that cannot come from the module proxy.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
