package identity

import (
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/client-go/rest"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// ApplicationExtra is the key of the user extra that every impersonated
// request carries; its one value is the Application acted for, as
// "namespace/name". Impersonating it needs the verb impersonate on the
// resource userextras/application.weir.dev of group authentication.k8s.io.
const ApplicationExtra = "application.weir.dev"

// Impersonation: a ServiceAccount of any namespace, with the extra that
// names the Application. Which ServiceAccounts an Application may name is
// bounded by what RBAC grants them, not by weir.
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=impersonate
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=userextras/application.weir.dev,verbs=impersonate

// Identity is who weir is when it acts for one Application: a
// ServiceAccount of the Application's namespace, or, when ServiceAccount
// is empty, weir itself.
type Identity struct {
	// Application acted for; only its namespace is set when weir acts for
	// a Rollout that no Application applied, or for an ApplicationSet.
	Application types.NamespacedName
	// ServiceAccount impersonated, in the Application's namespace; empty
	// for weir's own identity.
	ServiceAccount string
}

// Impersonating reports whether id is a ServiceAccount rather than weir.
func (id Identity) Impersonating() bool { return id.ServiceAccount != "" }

// Username is the name the API server knows id by,
// "system:serviceaccount:<namespace>:<name>"; empty for weir's own.
func (id Identity) Username() string {
	if !id.Impersonating() {
		return ""
	}
	return serviceaccount.MakeUsername(id.Application.Namespace, id.ServiceAccount)
}

// String names id for users: "ServiceAccount shop/deployer", or "weir's own
// identity".
func (id Identity) String() string {
	if !id.Impersonating() {
		return "weir's own identity"
	}
	return "ServiceAccount " + id.Application.Namespace + "/" + id.ServiceAccount
}

// Config returns a copy of base that acts as id: impersonating its
// ServiceAccount, with the extra that names the Application (when id has
// one). For weir's
// own identity it is base unchanged.
func (id Identity) Config(base *rest.Config) *rest.Config {
	cfg := rest.CopyConfig(base)
	if !id.Impersonating() {
		return cfg
	}
	cfg.Impersonate = rest.ImpersonationConfig{UserName: id.Username()}
	if id.Application.Name != "" {
		cfg.Impersonate.Extra = map[string][]string{ApplicationExtra: {id.Application.String()}}
	}
	return cfg
}

// Policy is what the controller imposes on every Application: who it acts
// as by default, and whether references may leave a namespace.
type Policy struct {
	// DefaultServiceAccount is impersonated for Applications that name no
	// ServiceAccount; empty means weir's own identity.
	DefaultServiceAccount string
	// NoCrossNamespaceRefs refuses Applications and Rollouts that name
	// another namespace than their own (CheckApplication, CheckRollout).
	NoCrossNamespaceRefs bool
}

// For is who weir is when it acts for app.
func (p Policy) For(app *weirv1.Application) Identity {
	return Identity{Application: types.NamespacedName{Namespace: app.Namespace, Name: app.Name}, ServiceAccount: p.serviceAccount(app.Spec.ServiceAccountName)}
}

// ForSet is who weir is when it lists Secrets for set's clusters
// generators: the ServiceAccount set names, or the default one, of set's
// namespace; weir's own identity when there is neither.
func (p Policy) ForSet(set *weirv1.ApplicationSet) Identity {
	return Identity{Application: types.NamespacedName{Namespace: set.Namespace}, ServiceAccount: p.serviceAccount(set.Spec.ServiceAccountName)}
}

// serviceAccount is named, or the default ServiceAccount when named is
// empty.
func (p Policy) serviceAccount(named string) string {
	if named == "" {
		return p.DefaultServiceAccount
	}
	return named
}

// ForRollout is who weir is when it drives ro, which app applied: as for
// app, or, when no Application applied ro (app is nil), the default
// ServiceAccount of ro's namespace.
func (p Policy) ForRollout(ro *weirv1.Rollout, app *weirv1.Application) Identity {
	if app != nil {
		return p.For(app)
	}
	return Identity{Application: types.NamespacedName{Namespace: ro.Namespace}, ServiceAccount: p.DefaultServiceAccount}
}
