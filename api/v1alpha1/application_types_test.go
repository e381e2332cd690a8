package v1alpha1

import "testing"

func TestObjectRefString(t *testing.T) {
	tests := map[string]ObjectRef{
		"apps/Deployment shop/web": {Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "web"},
		"Service shop/web":         {Version: "v1", Kind: "Service", Namespace: "shop", Name: "web"},
		"Namespace shop":           {Version: "v1", Kind: "Namespace", Name: "shop"},
	}
	for want, ref := range tests {
		if got := ref.String(); got != want {
			t.Errorf("%+v.String() = %q, want %q", ref, got, want)
		}
	}
}
