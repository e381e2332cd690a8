package controller

import (
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/identity"
)

// identities gives each identity Stages whose Applier names it, and
// records whom it was asked for.
type identities struct{ asked []identity.Identity }

type namedApplier struct {
	Applier
	id identity.Identity
}

func (f *identities) Get(id identity.Identity) (Stages, error) {
	f.asked = append(f.asked, id)
	return Stages{Applier: namedApplier{id: id}}, nil
}

func TestASyncActsAsTheIdentityTheApplicationRunsAs(t *testing.T) {
	tests := []struct {
		name           string
		tenancy        identity.Policy
		serviceAccount string
		destination    string
		want           string // the ServiceAccount acted as; "" for weir itself
		wantReason     string // the reason refused for, if any
	}{
		{name: "no ServiceAccount: weir itself"},
		{name: "its own", serviceAccount: "deployer", want: "deployer"},
		{name: "the default", tenancy: identity.Policy{DefaultServiceAccount: "tenant"}, want: "tenant"},
		{name: "its own over the default", tenancy: identity.Policy{DefaultServiceAccount: "tenant"}, serviceAccount: "deployer", want: "deployer"},
		{name: "another namespace as destination", tenancy: identity.Policy{NoCrossNamespaceRefs: true}, destination: "bank", wantReason: ReasonCrossNamespaceRef},
		{name: "another namespace as destination, allowed", destination: "bank"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids := &identities{}
			r := &ApplicationReconciler{Identities: ids, Tenancy: tt.tenancy}
			app := &weirv1.Application{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}}
			app.Spec.ServiceAccountName, app.Spec.Destination.Namespace = tt.serviceAccount, tt.destination
			acting, err := r.actingFor(t.Context(), app)
			if tt.wantReason != "" {
				if se := (*syncError)(nil); !errors.As(err, &se) || se.reason != tt.wantReason || !se.stall || len(ids.asked) > 0 {
					t.Fatalf("err = %v after asking for %v, want Stalled for %s before any client", err, ids.asked, tt.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := acting.Applier.(namedApplier).id
			if got.ServiceAccount != tt.want || got.Application.Namespace != "shop" || got.Application.Name != "web" {
				t.Errorf("acts as %+v, want ServiceAccount %q for shop/web", got, tt.want)
			}
			if r.Applier != nil {
				t.Error("actingFor changed the reconciler it copies")
			}
		})
	}
}
