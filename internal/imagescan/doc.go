// Package imagescan reads the tags of an OCI registry repository and
// selects the latest by a policy: a semver range, a number, or
// alphabetical order, over the tags a regular expression keeps, compared
// on the whole tag or on the part a named group of it extracts.
//
// A scan is bounded: it reads at most a given number of tags, each
// request in a given time, and each response up to a given size, so that
// a registry cannot hold weir or fill its memory.
package imagescan
