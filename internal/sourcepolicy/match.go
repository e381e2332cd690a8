package sourcepolicy

import (
	"path"
	"strings"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// matchURL reports whether the normalized URL u matches pattern, as
// path.Match does ("*" within a segment), but for a pattern ending in
// "/**", which matches the URL before it and every URL beneath. A
// malformed pattern matches nothing.
func matchURL(pattern, u string) bool {
	pattern = normalizePattern(pattern)
	if prefix, ok := strings.CutSuffix(pattern, "/**"); ok {
		segments := strings.Split(u, "/")
		n := strings.Count(prefix, "/") + 1
		if len(segments) < n {
			return false
		}
		u, pattern = strings.Join(segments[:n], "/"), prefix
	}
	ok, err := path.Match(pattern, u)
	return ok && err == nil
}

// normalizePattern writes a URL pattern as NormalizeURL writes URLs, as
// far as a pattern can be: scheme and host lower-cased, no trailing slash
// or ".git".
func normalizePattern(p string) string {
	scheme, rest, ok := strings.Cut(p, "://")
	if !ok {
		return p
	}
	host, tail, _ := strings.Cut(rest, "/")
	if tail != "" {
		tail = "/" + tail
	}
	if !strings.HasSuffix(tail, "/**") {
		tail = strings.TrimRight(strings.TrimSuffix(strings.TrimRight(tail, "/"), ".git"), "/")
	}
	return strings.ToLower(scheme) + "://" + strings.ToLower(host) + tail
}

// matchNamespace reports whether namespace matches pattern, in which
// weirv1.NamespacePlaceholder stands for own, the Application's namespace.
func matchNamespace(pattern, namespace, own string) bool {
	pattern = strings.ReplaceAll(pattern, weirv1.NamespacePlaceholder, own)
	ok, err := path.Match(pattern, namespace)
	return ok && err == nil
}
