// Package pageout gives the kernel back the pages of weir's own binary that
// only its start needed.
//
// Go runs the initialization of every package a binary links before main,
// and weir links some 2,400 (client-go, Helm, kustomize, SOPS with its key
// services, OPA, CEL). Those functions and the tables they read are spread
// over the whole binary, and the kernel maps a page's neighbours with it on
// a fault, so a started controller holds some 90 MiB of its binary resident
// though it runs from a tenth of that. The pages are clean and file-backed:
// the kernel reclaims them under memory pressure in any case. BinaryPages
// says so at once (MADV_PAGEOUT), so that the controller's resident memory
// is what it works with; a page it needs again faults back in from the page
// cache.
package pageout
