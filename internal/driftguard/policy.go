package driftguard

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
	"weir.dev/weir/internal/identity"
)

// PolicyName names the one ValidatingAdmissionPolicy weir keeps; every
// binding of it protects one Application.
const PolicyName = "weir-prevent-drift"

// DefaultBreakGlassGroup is the group whose members may change protected
// objects by hand, unless the controller names others.
const DefaultBreakGlassGroup = "weir:break-glass"

// ExemptUsers are the control plane's own users, which write objects on
// everyone's behalf: the API server's loopback client, and the controller
// manager and scheduler when they run with their own credentials.
var ExemptUsers = []string{"system:apiserver", "system:kube-controller-manager", "system:kube-scheduler"}

// ExemptGroups are the control plane's groups: the ServiceAccounts of
// kube-system, under which the controller manager runs its controllers
// (garbage collector, namespace deletion, HPA, PVC protection), and the
// kubelets, which delete the pods they stopped.
var ExemptGroups = []string{"system:serviceaccounts:kube-system", "system:nodes"}

// managedByLabel marks the policy and bindings weir keeps.
const managedByLabel = "app.kubernetes.io/managed-by"

// breakGlassOrDefault is groups, or DefaultBreakGlassGroup when none.
func breakGlassOrDefault(groups []string) []string {
	if len(groups) == 0 {
		return []string{DefaultBreakGlassGroup}
	}
	return groups
}

// Policy is the ValidatingAdmissionPolicy that refuses changes to an
// Application's objects, the Application being the binding's parameter,
// by anyone but self (weir's own user), the members of the breakGlass
// groups (none is DefaultBreakGlassGroup) and the control plane. It
// matches every resource and the scale subresource, and leaves the
// bindings to narrow that down (Bindings).
func Policy(self string, breakGlass []string) *admissionv1.ValidatingAdmissionPolicy {
	breakGlass = breakGlassOrDefault(breakGlass)
	return &admissionv1.ValidatingAdmissionPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "ValidatingAdmissionPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: PolicyName, Labels: map[string]string{managedByLabel: "weir"}},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			ParamKind: &admissionv1.ParamKind{APIVersion: weirv1.GroupVersion.String(), Kind: "Application"},
			// Not "*/*": status and the other subresources stay open to
			// the controllers that write them.
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{rule("*", admissionv1.AllScopes), rule("*/scale", admissionv1.AllScopes)}},
			FailurePolicy:    ptr.To(admissionv1.Fail),
			Variables:        variables,
			MatchConditions:  []admissionv1.MatchCondition{{Name: "owned-by-application", Expression: ownedExpression}},
			Validations: []admissionv1.Validation{{
				Expression:        allowedExpression(self, breakGlass),
				MessageExpression: messageExpression(breakGlass),
				Reason:            ptr.To(metav1.StatusReasonForbidden),
			}},
		},
	}
}

// variables name the parts of the rule. The repository is the
// Application's URL without the userinfo of a URL with a scheme, where a
// token may hide; "git@host:path" is shown as written.
var variables = []admissionv1.Variable{
	{Name: "owner", Expression: "params.metadata.namespace + '/' + params.metadata.name"},
	{Name: "url", Expression: "params.spec.source.url"},
	{Name: "userinfo", Expression: `variables.url.find('^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@')`},
	{Name: "repository", Expression: `variables.userinfo == '' ? variables.url : ` +
		`variables.url.find('^[A-Za-z][A-Za-z0-9+.-]*://') + variables.url.substring(size(variables.userinfo))`},
}

// ownedExpression is true for a request about an object of the binding's
// Application: one that carries its owner annotation, before or after the
// change (so that removing or forging the annotation is caught), or, for
// the scale subresource, whose Scale object has no annotations, one that
// the Application's inventory lists by group, namespace and name. Match
// conditions cannot read the policy's variables.
var ownedExpression = fmt.Sprintf(`has(request.subResource) && request.subResource == 'scale'
  ? has(params.status) && has(params.status.inventory) && params.status.inventory.exists(o,
      (has(o.group) ? o.group : '') == request.resource.group &&
      (has(o.namespace) ? o.namespace : '') == (has(request.namespace) ? request.namespace : '') && o.name == request.name)
  : [object, oldObject].exists(o, o != null && has(o.metadata.annotations) && %[1]s in o.metadata.annotations &&
      o.metadata.annotations[%[1]s] == params.metadata.namespace + '/' + params.metadata.name)`, celString(weirv1.OwnerAnnotation))

// allowedExpression is true for the requests that may change a protected
// object: weir's own, weir's as another identity for this Application,
// the control plane's and the break-glass groups'.
func allowedExpression(self string, breakGlass []string) string {
	users := append([]string{self}, ExemptUsers...)
	groups := slices.Concat(breakGlass, ExemptGroups)
	return fmt.Sprintf(`(has(request.userInfo.username) && request.userInfo.username in %s) ||
  (has(request.userInfo.groups) && request.userInfo.groups.exists(g, g in %s)) ||
  (has(request.userInfo.extra) && %[3]s in request.userInfo.extra && request.userInfo.extra[%[3]s] == [variables.owner])`,
		celList(users), celList(groups), celString(identity.ApplicationExtra))
}

// messageExpression names the Application, its repository and the way out.
// The API server puts the object's kind and name before it.
func messageExpression(breakGlass []string) string {
	who := "the group " + breakGlass[0]
	if len(breakGlass) > 1 {
		who = "one of the groups " + strings.Join(breakGlass, ", ")
	}
	return fmt.Sprintf(`'managed by Application ' + variables.owner + ' from ' + variables.repository + %s`,
		celString(", which prevents drift: change it in Git, or as a member of "+who))
}

// celString is s as a CEL string literal.
func celString(s string) string { return strconv.Quote(s) }

// celList is ss as a CEL list of string literals.
func celList(ss []string) string {
	quoted := make([]string, len(ss))
	for i, s := range ss {
		quoted[i] = celString(s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// Bindings are the two bindings of Policy that protect app's objects,
// with app as their parameter, in the namespaces app's inventory holds
// objects in (and those its Namespaces create) and its destination
// namespace.
//
// The first binding checks the objects themselves, and only those that
// carry weir's label (apply.ManagedByLabel, before or after the change):
// the API server matches labels and namespaces without evaluating any
// CEL, so that a request for any other object costs next to nothing. It
// checks cluster-scoped objects only while the inventory holds some, for
// requests about those reach every binding that matches them, whatever
// its namespaces. The second binding checks the scale subresource, whose
// Scale object has no labels.
func Bindings(app *weirv1.Application) []*admissionv1.ValidatingAdmissionPolicyBinding {
	key := types.NamespacedName{Namespace: app.Namespace, Name: app.Name}
	names := BindingNames(key)
	in := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpIn, Values: namespaces(app),
	}}}
	scope := admissionv1.NamespacedScope
	if slices.ContainsFunc(app.Status.Inventory, func(ref weirv1.ObjectRef) bool { return ref.Namespace == "" }) {
		scope = admissionv1.AllScopes
	}
	objects := binding(names[0], key, &admissionv1.MatchResources{NamespaceSelector: in,
		ObjectSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
			Key: apply.ManagedByLabel, Operator: metav1.LabelSelectorOpExists,
		}}},
		ResourceRules: []admissionv1.NamedRuleWithOperations{rule("*", scope)},
	})
	scale := binding(names[1], key, &admissionv1.MatchResources{NamespaceSelector: in,
		ResourceRules: []admissionv1.NamedRuleWithOperations{rule("*/scale", admissionv1.AllScopes)},
	})
	return []*admissionv1.ValidatingAdmissionPolicyBinding{objects, scale}
}

// binding is a binding of Policy named name, with the Application key as
// its parameter, for the requests match selects.
func binding(name string, key types.NamespacedName, match *admissionv1.MatchResources) *admissionv1.ValidatingAdmissionPolicyBinding {
	return &admissionv1.ValidatingAdmissionPolicyBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "ValidatingAdmissionPolicyBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{managedByLabel: "weir"}},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName: PolicyName,
			ParamRef: &admissionv1.ParamRef{Namespace: key.Namespace, Name: key.Name,
				// An Application deleted while weir was down protects
				// nothing until weir removes its bindings.
				ParameterNotFoundAction: ptr.To(admissionv1.AllowAction)},
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
			MatchResources:    match,
		},
	}
}

// rule matches creating, updating and deleting resources ("*" for
// objects, "*/scale" for the subresource) of any group and version in
// scope.
func rule(resources string, scope admissionv1.ScopeType) admissionv1.NamedRuleWithOperations {
	return admissionv1.NamedRuleWithOperations{RuleWithOperations: admissionv1.RuleWithOperations{
		Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update, admissionv1.Delete},
		Rule: admissionv1.Rule{APIGroups: []string{"*"}, APIVersions: []string{"*"},
			Resources: []string{resources}, Scope: ptr.To(scope)},
	}}
}

// namespaces are the namespaces app deploys to, sorted.
func namespaces(app *weirv1.Application) []string {
	set := map[string]bool{app.DestinationNamespace(): true}
	for _, ref := range app.Status.Inventory {
		switch {
		case ref.Namespace != "":
			set[ref.Namespace] = true
		case ref.Group == "" && ref.Kind == "Namespace":
			set[ref.Name] = true
		}
	}
	out := make([]string, 0, len(set))
	for ns := range set {
		out = append(out, ns)
	}
	slices.Sort(out)
	return out
}

// maxNameLength is the longest name of a cluster-scoped object.
const maxNameLength = 253

// BindingNames name the two bindings that protect app's objects:
// "weir-prevent-drift.<namespace>.<name>" for the objects and
// "weir-prevent-drift-scale.<namespace>.<name>" for their scale
// subresource, each, when too long for a name, a prefix of it and a hash
// of the whole.
func BindingNames(app types.NamespacedName) []string {
	return []string{bindingName(PolicyName, app), bindingName(PolicyName+"-scale", app)}
}

func bindingName(prefix string, app types.NamespacedName) string {
	name := prefix + "." + app.Namespace + "." + app.Name
	if len(name) <= maxNameLength {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	hash := hex.EncodeToString(sum[:8])
	return strings.TrimRight(name[:maxNameLength-len(hash)-1], ".-") + "-" + hash
}
