// Command pause is the one process of a real node's pod sandboxes: it holds
// the pod's namespaces and sleeps until it is told to stop. A static binary
// on an empty image, it stands in for the registry's pause image, which
// cannot be pulled here.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
