package apply

import (
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// each calls fn(0) ... fn(n-1) with up to Options.Concurrency calls at
// once, and returns when all have returned. The objects of a stage do not
// depend on each other, and most of a sync's time is spent waiting for the
// API server, so a few requests in flight shorten it several times.
func (m *Manager) each(n int, fn func(i int)) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, m.opts.Concurrency)
	for i := range n {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			fn(i)
		})
	}
	wg.Wait()
}

// eachObject runs op on every object, Options.Concurrency at a time, and
// returns the results of those that succeeded, in the order of objs, and a
// *SetError naming those that failed.
func eachObject[T any](m *Manager, opName string, objs []*unstructured.Unstructured, op func(*unstructured.Unstructured) (T, error)) ([]T, error) {
	results := make([]T, len(objs))
	failures := make([]error, len(objs))
	m.each(len(objs), func(i int) {
		results[i], failures[i] = op(objs[i])
	})
	succeeded := make([]T, 0, len(objs))
	var errs []*ObjectError
	for i, obj := range objs {
		if failures[i] != nil {
			errs = append(errs, objectError(obj, failures[i]))
			continue
		}
		succeeded = append(succeeded, results[i])
	}
	return succeeded, setError(opName, len(objs), errs)
}
