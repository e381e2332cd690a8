package v1alpha1

import (
	"strings"
	"testing"
)

// FuzzParseApproval: a value parses only into the change and user that
// write it again, and the value the admission policy admits for a user
// (the first word, " by ", the user) parses into that user.
func FuzzParseApproval(f *testing.F) {
	f.Add("3f2a9c1e0b4d by alice@example.com", "alice@example.com")
	f.Add("3f2a9c1e0b4d by system:serviceaccount:shop:deployer", "bob")
	f.Add("a b by alice", "alice")
	f.Add(" by alice", "alice")
	f.Add("x by alice by bob", "alice by bob")
	f.Fuzz(func(t *testing.T, value, user string) {
		if change, who, ok := ParseApproval(value); ok && ApprovalValue(change, who) != value {
			t.Errorf("%q parses into %q and %q, which write %q", value, change, who, ApprovalValue(change, who))
		}
		first, _, _ := strings.Cut(value, " ")
		if value != first+" by "+user || first == "" || user == "" {
			return // the policy refuses it, or weir ignores it
		}
		if change, who, ok := ParseApproval(value); !ok || change != first || who != user {
			t.Errorf("the policy admits %q for %q, which parses into %q, %q, %v", value, user, change, who, ok)
		}
	})
}
