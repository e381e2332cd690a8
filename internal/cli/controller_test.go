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

func TestByteSizeFlag(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"128Mi", 128 << 20, true},
		{"2Gi", 2 << 30, true},
		{"1G", 1e9, true},
		{"4096", 4096, true},
		{"0", 0, false},
		{"-1Mi", 0, false},
		{"lots", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var n int64
			err := byteSize{&n}.Set(tt.in)
			if (err == nil) != tt.ok || n != tt.want {
				t.Errorf("Set(%q) = %d, %v; want %d, ok=%v", tt.in, n, err, tt.want, tt.ok)
			}
		})
	}
}
