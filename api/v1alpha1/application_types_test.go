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

func TestObjectRefKeyIgnoresVersion(t *testing.T) {
	beta := ObjectRef{Group: "autoscaling", Version: "v2beta2", Kind: "HorizontalPodAutoscaler", Namespace: "shop", Name: "web"}
	v2 := beta
	v2.Version = "v2"
	other := v2
	other.Name = "api"
	if beta.Key() != v2.Key() {
		t.Errorf("%+v and %+v have different keys", beta, v2)
	}
	if v2.Key() == other.Key() {
		t.Errorf("%+v and %+v share a key", v2, other)
	}
}
