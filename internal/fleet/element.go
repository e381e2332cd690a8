package fleet

import "fmt"

// Element is one set of parameters, and where it came from.
type Element struct {
	// Params are the parameter names and values the template may use.
	Params map[string]string
	// Origin names the element in messages: "list element 2 of
	// spec.generators[0]", "cluster Secret eu-1", "file envs/eu.yaml".
	Origin string
}

// Limits of what a set's generators may produce. They bound the memory
// and the API requests of one reconcile whatever a repository holds.
const (
	// MaxElements is how many elements, and so Applications, a set may
	// have, a matrix's product included.
	MaxElements = 500
	// MaxParameters is how many parameters one element may have.
	MaxParameters = 100
	// MaxGitFiles is how many files one Git generator may read.
	MaxGitFiles = 100
	// MaxGitFileBytes is the size of the largest file a Git generator
	// reads.
	MaxGitFileBytes = 64 << 10
)

// checkParams refuses an element with more than MaxParameters parameters.
func checkParams(origin string, n int) error {
	if n > MaxParameters {
		return fmt.Errorf("%s has more than %d parameters", origin, MaxParameters)
	}
	return nil
}
