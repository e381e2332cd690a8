package cli

import (
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestParseObjectKey(t *testing.T) {
	tests := []struct {
		in   string
		want client.ObjectKey
		ok   bool
	}{
		{"weir-system/webhook", client.ObjectKey{Namespace: "weir-system", Name: "webhook"}, true},
		{"webhook", client.ObjectKey{}, false},
		{"weir-system/", client.ObjectKey{}, false},
		{"/webhook", client.ObjectKey{}, false},
		{"a/b/c", client.ObjectKey{}, false},
		{"", client.ObjectKey{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseObjectKey(tt.in)
			if (err == nil) != tt.ok || tt.ok && got != tt.want {
				t.Errorf("parseObjectKey(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}
