// Package decrypt decrypts the SOPS-encrypted files of an Application's
// repository in memory, with that Application's keys only.
//
// # Keys
//
// An Application's spec.decryption names a Secret in its namespace. ParseKeys
// reads its age identities (keys ending in ".agekey") and armored OpenPGP
// private keys without a passphrase (".asc"). A Decryptor made with New asks
// SOPS for each file's data key through its own key service, which answers
// with those keys and nothing else. SOPS' default key service, which
// decrypt.Data and decrypt.File use, would also look in the process
// environment, the home directory and cloud KMS with the controller's
// credentials: with it, one tenant's repository could be decrypted with
// another tenant's keys. Age plugin identities are refused, since they run
// programs; OpenPGP messages are decrypted in memory rather than through a
// keyring file or gpg.
//
// # Where decryption happens
//
// The render stage passes every file it reads through Decrypt: plain
// rendering each manifest, kustomize each file it loads through the
// checkout's confined file system (resources, patches, and the files of
// configMapGenerators and secretGenerators). Decrypt returns a file without
// SOPS metadata as it is, and decrypts the others, so that objects leave the
// render decrypted and without their `sops` block.
//
// Files are decrypted as they are read, before kustomize builds, rather than
// as objects after it: the MAC of a SOPS file covers its clear values too, so
// an object that kustomize has changed (a namespace, a name prefix, a label)
// no longer matches it. Decrypting on read checks each file as it was
// committed, needs no copy of the checkout, and keeps plaintext off the disk.
//
// # Where decrypted values may go
//
// Only two things are decrypted: manifests whose every document is a Secret,
// and the files a kustomize secretGenerator reads (dotenv, INI, YAML, JSON or
// binary), which become Secret data. A decrypted ConfigMap or any other kind
// fails, since weir masks only Secret values in diffs. Decrypted values are
// never written to disk. Errors name the file and say why it failed (no key
// for it, a changed value, a MAC that does not match) without quoting a
// value, and Redact removes decrypted values from the messages of later
// stages that may quote what they read.
package decrypt
