package identity

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

func application(serviceAccount string) *weirv1.Application {
	return &weirv1.Application{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"},
		Spec:       weirv1.ApplicationSpec{ServiceAccountName: serviceAccount},
	}
}

func TestPolicyFor(t *testing.T) {
	shopWeb := types.NamespacedName{Namespace: "shop", Name: "web"}
	tests := []struct {
		name           string
		policy         Policy
		serviceAccount string
		want           Identity
	}{
		{"neither field nor default: weir itself", Policy{}, "", Identity{Application: shopWeb}},
		{"the default", Policy{DefaultServiceAccount: "tenant"}, "", Identity{Application: shopWeb, ServiceAccount: "tenant"}},
		{"the field over the default", Policy{DefaultServiceAccount: "tenant"}, "deployer", Identity{Application: shopWeb, ServiceAccount: "deployer"}},
		{"the field without a default", Policy{}, "deployer", Identity{Application: shopWeb, ServiceAccount: "deployer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.For(application(tt.serviceAccount)); got != tt.want {
				t.Errorf("For = %+v, want %+v", got, tt.want)
			}
			// A set acts as its ServiceAccount alike, for no Application.
			set := &weirv1.ApplicationSet{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "fleet"},
				Spec: weirv1.ApplicationSetSpec{ServiceAccountName: tt.serviceAccount}}
			want := Identity{Application: types.NamespacedName{Namespace: "shop"}, ServiceAccount: tt.want.ServiceAccount}
			if got := tt.policy.ForSet(set); got != want {
				t.Errorf("ForSet = %+v, want %+v", got, want)
			}
		})
	}
}

func TestPolicyForRollout(t *testing.T) {
	ro := &weirv1.Rollout{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}}
	p := Policy{DefaultServiceAccount: "tenant"}
	if got, want := p.ForRollout(ro, application("deployer")), (Identity{Application: types.NamespacedName{Namespace: "shop", Name: "web"}, ServiceAccount: "deployer"}); got != want {
		t.Errorf("applied by an Application: %+v, want %+v", got, want)
	}
	if got, want := p.ForRollout(ro, nil), (Identity{Application: types.NamespacedName{Namespace: "shop"}, ServiceAccount: "tenant"}); got != want {
		t.Errorf("applied by none: %+v, want %+v", got, want)
	}
	if got := (Policy{}).ForRollout(ro, nil); got.Impersonating() {
		t.Errorf("applied by none, no default: %+v, want weir itself", got)
	}
}

func TestIdentityConfig(t *testing.T) {
	base := &rest.Config{Host: "https://127.0.0.1:6443", BearerToken: "weir-token"}
	tests := []struct {
		name string
		id   Identity
		want rest.ImpersonationConfig
	}{
		{"weir itself", Identity{Application: types.NamespacedName{Namespace: "shop", Name: "web"}}, rest.ImpersonationConfig{}},
		{"an Application's ServiceAccount", Identity{Application: types.NamespacedName{Namespace: "shop", Name: "web"}, ServiceAccount: "deployer"},
			rest.ImpersonationConfig{UserName: "system:serviceaccount:shop:deployer", Extra: map[string][]string{"application.weir.dev": {"shop/web"}}}},
		{"a Rollout no Application applied", Identity{Application: types.NamespacedName{Namespace: "shop"}, ServiceAccount: "tenant"},
			rest.ImpersonationConfig{UserName: "system:serviceaccount:shop:tenant"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.id.Config(base)
			if !reflect.DeepEqual(cfg.Impersonate, tt.want) {
				t.Errorf("Impersonate = %+v, want %+v", cfg.Impersonate, tt.want)
			}
			if cfg == base || cfg.BearerToken != base.BearerToken || base.Impersonate.UserName != "" {
				t.Error("Config must change a copy of base, keeping its credentials")
			}
		})
	}
}

func TestCheckApplication(t *testing.T) {
	tests := []struct {
		name      string
		policy    Policy
		spec      weirv1.ApplicationSpec
		wantField string // "" for none refused
	}{
		{"no destination", Policy{NoCrossNamespaceRefs: true}, weirv1.ApplicationSpec{}, ""},
		{"its own namespace", Policy{NoCrossNamespaceRefs: true},
			weirv1.ApplicationSpec{Destination: weirv1.Destination{Namespace: "shop"}}, ""},
		{"another destination", Policy{NoCrossNamespaceRefs: true},
			weirv1.ApplicationSpec{Destination: weirv1.Destination{Namespace: "bank"}}, "spec.destination.namespace"},
		{"another Helm release namespace", Policy{NoCrossNamespaceRefs: true},
			weirv1.ApplicationSpec{Render: weirv1.RenderSpec{Type: "helm", Helm: &weirv1.HelmSpec{Namespace: "bank"}}}, "spec.render.helm.namespace"},
		{"another destination, allowed", Policy{},
			weirv1.ApplicationSpec{Destination: weirv1.Destination{Namespace: "bank"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := application("")
			app.Spec = tt.spec
			err := tt.policy.CheckApplication(app)
			checkRefused(t, err, tt.wantField, "Application shop/web")
		})
	}
}

func TestCheckRollout(t *testing.T) {
	tests := []struct {
		name      string
		policy    Policy
		names     string // the Application the Rollout names
		wantField string
	}{
		{"its own namespace", Policy{NoCrossNamespaceRefs: true}, "shop/web", ""},
		{"none", Policy{NoCrossNamespaceRefs: true}, "", ""},
		{"another namespace", Policy{NoCrossNamespaceRefs: true}, "bank/web", "metadata.annotations[weir.dev/application]"},
		{"another namespace, allowed", Policy{}, "bank/web", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ro := &weirv1.Rollout{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}}
			if tt.names != "" {
				ro.Annotations = map[string]string{weirv1.ApplicationAnnotation: tt.names}
			}
			checkRefused(t, tt.policy.CheckRollout(ro), tt.wantField, "Rollout shop/web")
		})
	}
}

// checkRefused fails unless err refuses wantField of object, naming the
// namespace "bank", or is nil when wantField is empty.
func checkRefused(t *testing.T, err error, wantField, object string) {
	t.Helper()
	if wantField == "" {
		if err != nil {
			t.Errorf("refused: %v", err)
		}
		return
	}
	var ce *CrossNamespaceError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *CrossNamespaceError", err)
	}
	if ce.Field != wantField || ce.Namespace != "bank" || ce.Object != object {
		t.Errorf("refused %+v, want %s of %s naming bank", *ce, wantField, object)
	}
	for _, part := range []string{object, wantField, `"bank"`} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("message %q does not name %s", err, part)
		}
	}
}
