package driftguard

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/cel-go/cel"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apiserver/pkg/cel/environment"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
)

func TestBindingAppliesWhereTheApplicationDeploys(t *testing.T) {
	tests := []struct {
		name        string
		destination string
		inventory   []weirv1.ObjectRef
		want        []string
	}{
		{name: "nothing applied yet: the destination", destination: "shop", want: []string{"shop"}},
		{name: "no destination: the Application's namespace", want: []string{"apps"}},
		{name: "every namespace of the inventory", destination: "shop", inventory: []weirv1.ObjectRef{
			{Kind: "ConfigMap", Namespace: "shop-eu", Name: "a"}, {Group: "apps", Kind: "Deployment", Namespace: "shop-eu", Name: "b"},
			{Kind: "Secret", Namespace: "billing", Name: "c"},
		}, want: []string{"billing", "shop", "shop-eu"}},
		{name: "the Namespaces it creates, not other cluster-scoped objects", destination: "shop", inventory: []weirv1.ObjectRef{
			{Kind: "Namespace", Name: "shop-us"}, {Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "reader"},
			{Group: "example.com", Kind: "Namespace", Name: "not-a-namespace"},
		}, want: []string{"shop", "shop-us"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := &weirv1.Application{}
			app.Namespace, app.Name = "apps", "shop"
			app.Spec.Destination.Namespace = tt.destination
			app.Status.Inventory = tt.inventory
			for _, b := range Bindings(app) {
				got := b.Spec.MatchResources.NamespaceSelector.MatchExpressions[0].Values
				if !slices.Equal(got, tt.want) {
					t.Errorf("%s: namespaces %q, want %q", b.Name, got, tt.want)
				}
				if p := b.Spec.ParamRef; p.Namespace != "apps" || p.Name != "shop" || b.Spec.PolicyName != PolicyName {
					t.Errorf("%s: binding of policy %s with parameter %s/%s, want %s with apps/shop", b.Name, b.Spec.PolicyName, p.Namespace, p.Name, PolicyName)
				}
			}
		})
	}
}

func TestBindingNamesAreValidAndDistinct(t *testing.T) {
	long := strings.Repeat("a", 240)
	apps := []types.NamespacedName{
		{Namespace: "shop", Name: "web"},
		{Namespace: "shop", Name: "web.scale"},
		{Namespace: "shop", Name: long},
		{Namespace: "shop", Name: long + "b"},
		{Namespace: strings.Repeat("n", 63), Name: long},
	}
	seen := map[string]bool{}
	for _, app := range apps {
		for _, name := range BindingNames(app) {
			if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
				t.Errorf("BindingNames(%s): %q: %v", app, name, errs)
			}
			if seen[name] {
				t.Errorf("BindingNames(%s): %q, as for another Application or binding", app, name)
			}
			seen[name] = true
		}
	}
	want := []string{"weir-prevent-drift.shop.web", "weir-prevent-drift-scale.shop.web"}
	if got := BindingNames(apps[0]); !slices.Equal(got, want) {
		t.Errorf("BindingNames(shop/web) = %q, want %q", got, want)
	}
}

// TestBindingsMatchAsLittleAsTheyCan: the API server matches labels,
// namespaces and scopes before any CEL. Only the scale binding checks
// objects without weir's label (Scale objects have none), and the objects'
// binding checks cluster-scoped objects only while the Application has
// some.
func TestBindingsMatchAsLittleAsTheyCan(t *testing.T) {
	tests := []struct {
		name      string
		inventory []weirv1.ObjectRef
		scope     admissionv1.ScopeType
	}{
		{"namespaced objects", []weirv1.ObjectRef{{Kind: "ConfigMap", Namespace: "shop", Name: "a"}}, admissionv1.NamespacedScope},
		{"and a Namespace", []weirv1.ObjectRef{{Kind: "ConfigMap", Namespace: "shop", Name: "a"}, {Kind: "Namespace", Name: "shop"}}, admissionv1.AllScopes},
		{"and a ClusterRole", []weirv1.ObjectRef{{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "r"}}, admissionv1.AllScopes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := &weirv1.Application{}
			app.Namespace, app.Name, app.Status.Inventory = "apps", "shop", tt.inventory
			objects, scale := Bindings(app)[0].Spec.MatchResources, Bindings(app)[1].Spec.MatchResources
			if sel := objects.ObjectSelector; sel == nil || sel.MatchExpressions[0].Key != apply.ManagedByLabel ||
				!slices.Equal(objects.ResourceRules[0].Resources, []string{"*"}) || *objects.ResourceRules[0].Scope != tt.scope {
				t.Errorf("the objects' binding matches %+v, want scope %s", objects, tt.scope)
			}
			if scale.ObjectSelector != nil || !slices.Equal(scale.ResourceRules[0].Resources, []string{"*/scale"}) {
				t.Errorf("the scale binding matches %+v", scale)
			}
		})
	}
}

func TestPolicyNamesTheBreakGlassGroups(t *testing.T) {
	tests := []struct {
		groups []string
		want   string
	}{
		{nil, "or as a member of the group weir:break-glass"},
		{[]string{"oncall"}, "or as a member of the group oncall"},
		{[]string{"oncall", "sre"}, "or as a member of one of the groups oncall, sre"},
	}
	for _, tt := range tests {
		v := Policy("weir", tt.groups).Spec.Validations[0]
		if !strings.Contains(v.MessageExpression, tt.want) {
			t.Errorf("with groups %q, the message %s does not say %q", tt.groups, v.MessageExpression, tt.want)
		}
		for _, g := range breakGlassOrDefault(tt.groups) {
			if !strings.Contains(v.Expression, celString(g)) {
				t.Errorf("with groups %q, the rule %s does not allow %q", tt.groups, v.Expression, g)
			}
		}
	}
}

// TestPolicyExpressionsParse parses every CEL expression of the policy,
// for a user and groups that need quoting; the API server compiles them
// (TestWhoMayChangeAProtectedObject).
func TestPolicyExpressionsParse(t *testing.T) {
	p := Policy(`system:serviceaccount:weir-system:weir`, []string{`on"call`, `back\slash`, "new\nline", "ünïcode"})
	exprs := []string{p.Spec.MatchConditions[0].Expression, p.Spec.Validations[0].Expression, p.Spec.Validations[0].MessageExpression}
	for _, v := range p.Spec.Variables {
		exprs = append(exprs, v.Expression)
	}
	env, err := cel.NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	for _, expr := range exprs {
		if _, iss := env.Parse(expr); iss.Err() != nil {
			t.Errorf("%s: %v", expr, iss.Err())
		}
	}
}

func TestCELListReadsBackAsWritten(t *testing.T) {
	for _, ss := range [][]string{{}, {"weir:break-glass"}, {`on"call`, `back\slash`, "new\nline", "tab\t", "ünïcode", "\x00", "'single'"}} {
		if got := evalCEL(t, celList(ss)); !slices.Equal(got, ss) {
			t.Errorf("celList(%q) reads back as %q", ss, got)
		}
	}
}

func FuzzCELString(f *testing.F) {
	for _, s := range []string{"weir:break-glass", `a"b`, `\`, "\n", "ü", "\x7f", "'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip("names the API server holds are UTF-8")
		}
		if got := evalCEL(t, celList([]string{s})); len(got) != 1 || got[0] != s {
			t.Errorf("celString(%q) reads back as %q", s, got)
		}
	})
}

// evalCEL evaluates a CEL list of strings.
func evalCEL(t *testing.T, expr string) []string {
	t.Helper()
	env, err := cel.NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		t.Fatalf("%s: %v", expr, iss.Err())
	}
	prg, err := env.Program(ast)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := prg.Eval(cel.NoVars())
	if err != nil {
		t.Fatal(err)
	}
	native, err := out.ConvertToNative(reflectStrings)
	if err != nil {
		t.Fatal(err)
	}
	return native.([]string)
}

var reflectStrings = reflect.TypeFor[[]string]()

// TestRefusalsHideTheRepositorysUserinfo evaluates the policy's variables
// in the API server's CEL environment.
func TestRefusalsHideTheRepositorysUserinfo(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://deploy-bot:s3cret@git.example.com/shop/deploy.git", "https://git.example.com/shop/deploy.git"},
		{"https://ghp_token@github.com/shop/deploy", "https://github.com/shop/deploy"},
		{"ssh://git:pass@git.example.com:2222/shop/deploy.git", "ssh://git.example.com:2222/shop/deploy.git"},
		{"git@github.com:shop/deploy.git", "git@github.com:shop/deploy.git"},
		{"https://git.example.com/shop/deploy@v1", "https://git.example.com/shop/deploy@v1"},
		{"file:///srv/git/deploy", "file:///srv/git/deploy"},
	}
	env, err := environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()).Env(environment.StoredExpressions)
	if err != nil {
		t.Fatal(err)
	}
	if env, err = env.Extend(cel.Variable("variables", cel.MapType(cel.StringType, cel.DynType))); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		vars := map[string]any{"url": tt.url}
		for _, name := range []string{"userinfo", "repository"} {
			v := variables[slices.IndexFunc(variables, func(v admissionv1.Variable) bool { return v.Name == name })]
			ast, iss := env.Compile(v.Expression)
			if iss.Err() != nil {
				t.Fatalf("%s: %v", v.Name, iss.Err())
			}
			prg, err := env.Program(ast)
			if err != nil {
				t.Fatal(err)
			}
			out, _, err := prg.Eval(map[string]any{"variables": vars})
			if err != nil {
				t.Fatalf("%s of %s: %v", v.Name, tt.url, err)
			}
			vars[v.Name] = out.Value()
		}
		if vars["repository"] != tt.want {
			t.Errorf("%s is shown as %v, want %s", tt.url, vars["repository"], tt.want)
		}
	}
}
