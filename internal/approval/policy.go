package approval

import (
	"fmt"
	"strconv"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// PolicyName names the policy and its one binding.
const PolicyName = "weir-pipeline-approval"

// managedByLabel marks the objects this package keeps.
const managedByLabel = "app.kubernetes.io/managed-by"

// vouchedExpression is true when every approval annotation that the
// request adds or changes names, after " by ", the request's own user,
// and names a change without spaces: an annotation left as it was passes.
var vouchedExpression = fmt.Sprintf(`!has(object.metadata.annotations) || object.metadata.annotations.all(k,
  !k.startsWith(%[1]s) ||
  (oldObject != null && has(oldObject.metadata.annotations) && k in oldObject.metadata.annotations &&
    oldObject.metadata.annotations[k] == object.metadata.annotations[k]) ||
  object.metadata.annotations[k] == object.metadata.annotations[k].split(' ')[0] + ' by ' + request.userInfo.username)`,
	strconv.Quote(weirv1.ApprovalAnnotationPrefix))

// Policy is the ValidatingAdmissionPolicy that admits an approval
// annotation only in the name of the user who sets it.
func Policy() *admissionv1.ValidatingAdmissionPolicy {
	return &admissionv1.ValidatingAdmissionPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "ValidatingAdmissionPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: PolicyName, Labels: map[string]string{managedByLabel: "weir"}},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
					Rule: admissionv1.Rule{APIGroups: []string{weirv1.GroupVersion.Group}, APIVersions: []string{"*"},
						Resources: []string{"pipelines"}, Scope: ptr.To(admissionv1.NamespacedScope)},
				},
			}}},
			FailurePolicy: ptr.To(admissionv1.Fail),
			Validations: []admissionv1.Validation{{
				Expression: vouchedExpression,
				MessageExpression: fmt.Sprintf(`'an approval annotation (%s<stage>) must read "<change> by ' + request.userInfo.username + '", naming you as the API server knows you'`,
					weirv1.ApprovalAnnotationPrefix),
				Reason: ptr.To(metav1.StatusReasonForbidden),
			}},
		},
	}
}

// Binding binds Policy to every Pipeline, denying what it refuses.
func Binding() *admissionv1.ValidatingAdmissionPolicyBinding {
	return &admissionv1.ValidatingAdmissionPolicyBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "ValidatingAdmissionPolicyBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: PolicyName, Labels: map[string]string{managedByLabel: "weir"}},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        PolicyName,
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
		},
	}
}
