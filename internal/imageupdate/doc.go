// Package imageupdate carries out an ImageUpdate: it scans the registry
// repository the object names (package imagescan), selects the latest tag
// by its policy, and commits it to the marked fields of its Application's
// Git repository (packages imagewrite and gitwrite), with the
// Application's credentials and signing key.
package imageupdate
