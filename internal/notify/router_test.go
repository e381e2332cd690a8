package notify

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

func TestNotificationsSelectByApplicationSeverityAndReason(t *testing.T) {
	failed, succeeded := failedSync(), failedSync()
	succeeded.Reason, succeeded.Severity = "Succeeded", weirv1.SeverityInfo
	unknown := succeeded
	unknown.Reason = "AnnotationsIgnored"
	image := Event{Kind: "ImagePolicy", Namespace: "shop", Name: "web", Reason: "ImageUpdated", Severity: weirv1.SeverityInfo}
	team := labels.Set{"team": "payments"}
	for _, tc := range []struct {
		name   string
		spec   weirv1.NotificationSpec
		e      Event
		labels labels.Set
		want   bool
	}{
		{"everything weir notifies of", weirv1.NotificationSpec{}, succeeded, nil, true},
		{"a reason weir does not notify of", weirv1.NotificationSpec{}, unknown, nil, false},
		{"a reason listed by name", weirv1.NotificationSpec{Reasons: []string{"AnnotationsIgnored"}}, unknown, nil, true},
		{"a reason not listed", weirv1.NotificationSpec{Reasons: []string{"Promoted"}}, failed, nil, false},
		{"errors only, an error", weirv1.NotificationSpec{Severity: weirv1.SeverityError}, failed, nil, true},
		{"errors only, a success", weirv1.NotificationSpec{Severity: weirv1.SeverityError}, succeeded, nil, false},
		{"its Application", weirv1.NotificationSpec{Applications: []string{"web"}}, failed, nil, true},
		{"another Application", weirv1.NotificationSpec{Applications: []string{"api"}}, failed, nil, false},
		{"an object of no Application, Applications named", weirv1.NotificationSpec{Applications: []string{"web"}}, image, nil, false},
		{"an object of no Application", weirv1.NotificationSpec{}, image, nil, true},
		{"labels that match", weirv1.NotificationSpec{Selector: &metav1.LabelSelector{MatchLabels: team}}, failed, team, true},
		{"labels that do not", weirv1.NotificationSpec{Selector: &metav1.LabelSelector{MatchLabels: team}}, failed, labels.Set{"team": "ops"}, false},
		{"suspended", weirv1.NotificationSpec{Suspend: true}, failed, nil, false},
	} {
		n := &weirv1.Notification{Spec: tc.spec}
		if got := Selects(n, tc.e, tc.labels); got != tc.want {
			t.Errorf("%s: Selects = %v, want %v", tc.name, got, tc.want)
		}
	}
}
