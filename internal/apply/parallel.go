package apply

import "sync"

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
