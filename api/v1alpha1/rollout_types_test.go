package v1alpha1

import "testing"

func TestRevertSummary(t *testing.T) {
	tests := []struct {
		f    FailedRevision
		want string
	}{
		{FailedRevision{}, ""},
		{FailedRevision{RevertCommit: "abc", RevertAttempts: 2}, "reverted in Git by commit abc"},
		{FailedRevision{RevertError: "push refused", RevertAttempts: 1}, "the revert in Git failed (attempt 1 of 5; weir tries again): push refused"},
		{FailedRevision{RevertError: "conflict in web.yaml", RevertAttempts: 1, RevertGaveUp: true}, "the revert in Git failed, and weir gave up after 1 attempts: conflict in web.yaml"},
	}
	for _, tt := range tests {
		if got := tt.f.RevertSummary(); got != tt.want {
			t.Errorf("%+v.RevertSummary() = %q, want %q", tt.f, got, tt.want)
		}
	}
}
