// Package metrics defines weir's Prometheus metrics and records them.
//
// A Recorder registers its collectors with the registry it is given; the
// controller uses controller-runtime's, so that weir's metrics are served on
// the manager's /metrics endpoint beside those controller-runtime exports
// itself (workqueue_depth{name="application"} is the number of Applications
// waiting to be reconciled).
package metrics
