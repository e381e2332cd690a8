// Package fleet stamps out Applications for an ApplicationSet: its
// generators turn lists, cluster Secrets and the directories and files of
// a Git repository (and matrices of two of them) into elements, each a map
// of string parameters; Render puts an element's parameters into the
// set's template; Plan compares the Applications so rendered with those
// the set owns and says which to write and which to remove now, opening
// the waves of a rollout one after the other.
//
// Everything but Generator.Elements, which lists Secrets (as the set's
// ServiceAccount) and reads Git, is pure: the controller reads the
// cluster, calls these functions, and writes what they return.
package fleet
