// Package charts holds weir's Helm chart, charts/weir, beside the kustomize
// install in config/; its tests keep the two installing the same objects.
package charts
