// Package verify checks the signatures of the revisions weir is about to
// apply: the commit, the annotated tag, or both, as an Application's
// spec.source.verify asks, against the keys of a Secret.
//
// Git signs a commit or a tag by putting a signature of the object, as
// encoded without it, in the object itself. weir trusts two kinds:
//
//   - OpenPGP signatures (git's default, gpg.format openpgp), verified with
//     go-git's Commit.Verify and Tag.Verify against armored public keys;
//   - SSH signatures (gpg.format ssh), in the SSHSIG format that
//     `ssh-keygen -Y sign` writes, in the namespace "git", verified against
//     an allowed signers file as `git verify-commit` does with
//     gpg.ssh.allowedSignersFile.
//
// X.509 signatures (gpg.format x509) are refused, as is an object signed
// more than once.
package verify
