// Package controller wires weir's stages into reconcilers. It holds no
// algorithms: the Application reconciler reads like the data flow, from Git
// to a healthy cluster, and each stage lives in its own package.
package controller
