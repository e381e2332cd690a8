// Command hello stands for weir in the image builder's tests: a main
// package that builds in seconds, resolves a host name as weir does, and
// prints the commit the builder stamped into it.
package main

import (
	"fmt"
	"net"

	"weir.dev/weir/internal/version"
)

func main() {
	if _, err := net.LookupHost("localhost"); err != nil {
		fmt.Println(err)
	}
	fmt.Println(version.Get().Commit)
}
