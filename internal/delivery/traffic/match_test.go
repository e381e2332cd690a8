package traffic

import (
	"errors"
	"reflect"
	"regexp"
	"testing"

	"weir.dev/weir/api/v1alpha1"
)

func TestConditions(t *testing.T) {
	tests := []struct {
		name    string
		matches []v1alpha1.RequestMatch
		want    []condition
		wantErr bool
	}{
		{"header value", []v1alpha1.RequestMatch{{Header: "X-Canary", Value: "yes"}},
			[]condition{{Header: "X-Canary", Value: "yes"}}, false},
		{"header regex", []v1alpha1.RequestMatch{{Header: "User-Agent", Regex: ".*Android.*"}},
			[]condition{{Header: "User-Agent", Regex: true, Value: ".*Android.*"}}, false},
		{"header present", []v1alpha1.RequestMatch{{Header: "X-Beta"}},
			[]condition{{Header: "X-Beta", Regex: true, Value: ".*"}}, false},
		{"cookie value", []v1alpha1.RequestMatch{{Cookie: "canary", Value: "a.b"}},
			[]condition{{Header: "cookie", Regex: true, Value: `^(?:.*;\s*)?canary=a\.b(?:;.*)?$`}}, false},
		{"two matches", []v1alpha1.RequestMatch{{Header: "a", Value: "1"}, {Cookie: "c", Regex: "x|y"}},
			[]condition{{Header: "a", Value: "1"}, {Header: "cookie", Regex: true, Value: `^(?:.*;\s*)?c=(?:x|y)(?:;.*)?$`}}, false},
		{"header and cookie", []v1alpha1.RequestMatch{{Header: "a", Cookie: "c"}}, nil, true},
		{"neither", []v1alpha1.RequestMatch{{Value: "1"}}, nil, true},
		{"value and regex", []v1alpha1.RequestMatch{{Header: "a", Value: "1", Regex: "1"}}, nil, true},
		{"bad regex", []v1alpha1.RequestMatch{{Header: "a", Regex: "("}}, nil, true},
		{"bad cookie name", []v1alpha1.RequestMatch{{Cookie: "a=b"}}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := conditions(&v1alpha1.HeaderRoute{Matches: tt.matches})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestCookieRegexMatchesCookieHeaders(t *testing.T) {
	tests := []struct {
		name, value, regex, header string
		want                       bool
	}{
		{"canary", "on", "", "canary=on", true},
		{"canary", "on", "", "a=1; canary=on; b=2", true},
		{"canary", "on", "", "a=1;canary=on", true},
		{"canary", "on", "", "canary=only", false},
		{"canary", "on", "", "xcanary=on", false},
		{"canary", "on", "", "a=canary=on", false},
		{"canary", "", "v[0-9]+", "a=1; canary=v42", true},
		{"canary", "", "v[0-9]+", "canary=v4x", false},
		{"canary", "", "", "canary=; a=1", true},
		{"canary", "", "", "a=1", false},
	}
	for _, tt := range tests {
		re := regexp.MustCompile(cookieRegex(tt.name, tt.value, tt.regex))
		if got := re.MatchString(tt.header); got != tt.want {
			t.Errorf("cookie %s=%q/%q against %q: %v, want %v (%s)", tt.name, tt.value, tt.regex, tt.header, got, tt.want, re)
		}
	}
}

func TestGatewayMatchesAddEachConditionToEachRuleMatch(t *testing.T) {
	ruleMatches := []map[string]any{
		{"path": map[string]any{"type": "PathPrefix", "value": "/api"}},
		{"path": map[string]any{"type": "Exact", "value": "/"}, "headers": []any{
			map[string]any{"name": "x-canary", "type": "Exact", "value": "old"},
			map[string]any{"name": "x-tenant", "type": "Exact", "value": "a"},
		}},
	}
	conds := []condition{{Header: "X-Canary", Value: "yes"}, {Header: "cookie", Regex: true, Value: "^c=1$"}}
	got := gatewayMatches(ruleMatches, conds)
	want := []map[string]any{
		{"path": map[string]any{"type": "PathPrefix", "value": "/api"}, "headers": []any{
			map[string]any{"name": "X-Canary", "type": "Exact", "value": "yes"}}},
		{"path": map[string]any{"type": "PathPrefix", "value": "/api"}, "headers": []any{
			map[string]any{"name": "cookie", "type": "RegularExpression", "value": "^c=1$"}}},
		{"path": map[string]any{"type": "Exact", "value": "/"}, "headers": []any{
			map[string]any{"name": "x-tenant", "type": "Exact", "value": "a"},
			map[string]any{"name": "X-Canary", "type": "Exact", "value": "yes"}}},
		{"path": map[string]any{"type": "Exact", "value": "/"}, "headers": []any{
			map[string]any{"name": "x-canary", "type": "Exact", "value": "old"},
			map[string]any{"name": "x-tenant", "type": "Exact", "value": "a"},
			map[string]any{"name": "cookie", "type": "RegularExpression", "value": "^c=1$"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if len(objects(ruleMatches[1]["headers"])) != 2 {
		t.Error("gatewayMatches changed the rule's own matches")
	}
	if got := gatewayMatches(nil, conds[:1]); !reflect.DeepEqual(got, []map[string]any{{"headers": []any{
		map[string]any{"name": "X-Canary", "type": "Exact", "value": "yes"}}}}) {
		t.Errorf("a rule without matches: got %v", got)
	}
}

func TestIstioMatchesAddEachConditionToEachRouteMatch(t *testing.T) {
	routeMatches := []map[string]any{{"uri": map[string]any{"prefix": "/api"}, "headers": map[string]any{"x-tenant": map[string]any{"exact": "a"}}}}
	conds := []condition{{Header: "X-Canary", Value: "yes"}, {Header: "cookie", Regex: true, Value: "^c=1$"}}
	got := istioMatches(routeMatches, conds)
	want := []map[string]any{
		{"uri": map[string]any{"prefix": "/api"}, "headers": map[string]any{
			"x-tenant": map[string]any{"exact": "a"}, "x-canary": map[string]any{"exact": "yes"}}},
		{"uri": map[string]any{"prefix": "/api"}, "headers": map[string]any{
			"x-tenant": map[string]any{"exact": "a"}, "cookie": map[string]any{"regex": "^c=1$"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if len(child(routeMatches[0], "headers")) != 1 {
		t.Error("istioMatches changed the route's own matches")
	}
}

func TestNGINXHeaderAnnotations(t *testing.T) {
	const p = "nginx.ingress.kubernetes.io/"
	tests := []struct {
		name        string
		matches     []v1alpha1.RequestMatch
		want        map[string]string
		unsupported bool
	}{
		{"none", nil, map[string]string{}, false},
		{"header value", []v1alpha1.RequestMatch{{Header: "X-Canary", Value: "yes"}},
			map[string]string{p + "canary-by-header": "X-Canary", p + "canary-by-header-value": "yes"}, false},
		{"header regex", []v1alpha1.RequestMatch{{Header: "X-Canary", Regex: "y.s"}},
			map[string]string{p + "canary-by-header": "X-Canary", p + "canary-by-header-pattern": "^(?:y.s)$"}, false},
		{"header present", []v1alpha1.RequestMatch{{Header: "X-Canary"}},
			map[string]string{p + "canary-by-header": "X-Canary", p + "canary-by-header-pattern": ".*"}, false},
		{"header and cookie", []v1alpha1.RequestMatch{{Header: "X-Canary", Value: "1"}, {Cookie: "canary", Value: "always"}},
			map[string]string{p + "canary-by-header": "X-Canary", p + "canary-by-header-value": "1", p + "canary-by-cookie": "canary"}, false},
		{"cookie present", []v1alpha1.RequestMatch{{Cookie: "canary"}},
			map[string]string{p + "canary-by-cookie": "canary"}, false},
		{"cookie other value", []v1alpha1.RequestMatch{{Cookie: "canary", Value: "on"}}, nil, true},
		{"cookie regex", []v1alpha1.RequestMatch{{Cookie: "canary", Regex: "o."}}, nil, true},
		{"two headers", []v1alpha1.RequestMatch{{Header: "a", Value: "1"}, {Header: "b", Value: "2"}}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := nginxHeaderAnnotations(&v1alpha1.HeaderRoute{Matches: tt.matches})
			if errors.Is(err, ErrUnsupported) != tt.unsupported {
				t.Fatalf("err = %v, want ErrUnsupported %v", err, tt.unsupported)
			}
			if !tt.unsupported && err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := nginxHeaderAnnotations(&v1alpha1.HeaderRoute{Matches: []v1alpha1.RequestMatch{{Header: "a", Regex: "("}}}); err == nil || errors.Is(err, ErrUnsupported) {
		t.Errorf("a bad regex: err = %v, want an error that is not ErrUnsupported", err)
	}
}
