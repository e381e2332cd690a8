package traffic

import (
	"fmt"
	"regexp"
	"strings"

	"weir.dev/weir/api/v1alpha1"
)

// condition is one request match of a header route as a test on one
// header's value: what Gateway API and Istio can express. A cookie becomes
// a regular expression on the Cookie header.
type condition struct {
	// Header name; "cookie" for a cookie match.
	Header string
	// Regex says Value is a regular expression (RE2) rather than the exact
	// value.
	Regex bool
	// Value is the exact value or the regular expression.
	Value string
}

// anyValue is the expression for a header or cookie that must be present,
// whatever its value.
const anyValue = ".*"

// conditions turns a header route's matches into conditions, one per match
// (a request that satisfies any of them goes to the canary):
//
//   - header with value: the header equals value;
//   - header with regex: the header's value matches regex;
//   - header with neither: the header is present (regex ".*");
//   - cookie: the Cookie header holds the cookie with that value, a value
//     matching regex, or any value.
//
// The expressions are anchored at both ends, so they mean the same to
// proxies that match a whole value (Envoy) and to those that search in it.
func conditions(route *v1alpha1.HeaderRoute) ([]condition, error) {
	var out []condition
	for i, m := range route.Matches {
		c, err := conditionOf(m)
		if err != nil {
			return nil, fmt.Errorf("header route match %d: %w", i, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func conditionOf(m v1alpha1.RequestMatch) (condition, error) {
	if err := validMatch(m); err != nil {
		return condition{}, err
	}
	if m.Cookie != "" {
		return condition{Header: "cookie", Regex: true, Value: cookieRegex(m.Cookie, m.Value, m.Regex)}, nil
	}
	switch {
	case m.Regex != "":
		return condition{Header: m.Header, Regex: true, Value: m.Regex}, nil
	case m.Value != "":
		return condition{Header: m.Header, Value: m.Value}, nil
	}
	return condition{Header: m.Header, Regex: true, Value: anyValue}, nil
}

// validMatch refuses a match that names both or neither of header and
// cookie, sets both value and regex, or whose regex does not compile.
func validMatch(m v1alpha1.RequestMatch) error {
	if (m.Header == "") == (m.Cookie == "") {
		return fmt.Errorf("set exactly one of header and cookie (header %q, cookie %q)", m.Header, m.Cookie)
	}
	if m.Value != "" && m.Regex != "" {
		return fmt.Errorf("set value or regex, not both (value %q, regex %q)", m.Value, m.Regex)
	}
	if m.Regex != "" {
		if _, err := regexp.Compile(m.Regex); err != nil {
			return fmt.Errorf("regex %q: %w", m.Regex, err)
		}
	}
	if strings.ContainsAny(m.Cookie, "=; ") {
		return fmt.Errorf("cookie name %q holds '=', ';' or a space", m.Cookie)
	}
	return nil
}

// cookieRegex matches a Cookie header ("a=1; b=2") that holds the cookie
// name with the exact value, a value matching regex, or (neither) any value.
func cookieRegex(name, value, regex string) string {
	v := "[^;]*"
	switch {
	case regex != "":
		v = "(?:" + regex + ")"
	case value != "":
		v = regexp.QuoteMeta(value)
	}
	return `^(?:.*;\s*)?` + regexp.QuoteMeta(name) + "=" + v + `(?:;.*)?$`
}
