// Package gitwrite is weir's write path to Git: when a release fails and
// its Rollout asks for it, a Reverter pushes to the tracked branch one
// commit that undoes the release, so that Git says again what runs.
//
// A revert of the range (Good, Bad] is a three-way merge: base Bad, ours the
// branch head, theirs Good. Each attempt
//
//  1. makes a bare clone in a new directory under the work directory, holding
//     only the branch head, Good and Bad: the three commits alone at depth 1
//     when the server serves commits by hash (it advertises
//     allow-reachable-sha1-in-want), else the branch's last 20 commits, else
//     its whole history;
//  2. merges the trees in memory: entries that only one side changed take
//     that side, text files that both changed merge line by line (changes to
//     the same or adjacent lines conflict, as in Git), anything else that both
//     changed conflicts;
//  3. writes one commit of the merged tree on top of the head, and pushes it
//     on the condition that the remote branch is still at that head.
//
// A push that loses a race with another writer is redone from step 1; a
// conflict, or a head that already has none of the changes, pushes nothing
// and says so with *ConflictError or ErrAlreadyReverted. The clone is
// removed when the attempt ends.
//
// Commit is the same write path for a commit of edited files (image tags
// that weir's image automation and promotions write): it fetches the
// branch head alone at depth 1, shows the files under a directory to an
// Editor, writes one commit of what it changed, and pushes it on the same
// condition; a push that loses a race is redone on the new head, the files
// edited afresh.
//
// Everything runs in-process with go-git, which has no merge or revert of
// its own, hence the merge here. The git CLI (git revert -n Good..Bad, or
// git merge-tree) would merge with rename detection, but weir ships as one
// binary without git, and the CLI would need its own credential plumbing
// (askpass, GIT_SSH_COMMAND with an ssh client, known_hosts files): here
// connections authenticate, check host keys and redact errors exactly as
// internal/source does, through source.Remote. The cost is that renames are
// not followed: a file renamed after Bad and changed by the release
// conflicts, and a person reverts that one by hand.
package gitwrite
