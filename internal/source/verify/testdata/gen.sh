#!/usr/bin/env bash
# Regenerates the fixtures: throwaway keys (OpenPGP through gpg, SSH through
# ssh-keygen, none with a passphrase) and the commits and tags git signs
# with them, as `git cat-file` prints them. Run from this directory.
set -euo pipefail
out=$PWD
work=$(mktemp -d)
trap 'GNUPGHOME=$work/gnupg gpgconf --kill gpg-agent 2>/dev/null; rm -rf "$work"' EXIT
export GNUPGHOME=$work/gnupg GIT_CONFIG_NOSYSTEM=1 HOME=$work
mkdir -m 700 "$GNUPGHOME"
for who in trusted other; do
  gpg --batch --quiet --pinentry-mode loopback --passphrase '' --quick-gen-key "$who <$who@example.com>" ed25519 sign never
  gpg --armor --export "$who@example.com" >"pgp-$who.asc"
  ssh-keygen -q -t ed25519 -N '' -C "$who" -f "$work/ssh-$who"
done
echo "trusted@example.com namespaces=\"git\" $(cat "$work/ssh-trusted.pub")" >allowed_signers
echo "trusted@example.com namespaces=\"file\" $(cat "$work/ssh-trusted.pub")" >allowed_signers-file-only
cd "$work" && git init -q -b main repo && cd repo
export GIT_AUTHOR_NAME=Ada GIT_AUTHOR_EMAIL=ada@example.com GIT_COMMITTER_NAME=Ada GIT_COMMITTER_EMAIL=ada@example.com
export GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z
commit() { # name, git -c settings...
  local name=$1; shift
  echo "$name" >file && git add file
  git "$@" commit -q -m "$name"
  git cat-file commit HEAD >"$out/commit-$name"
}
tag() { # name, git -c settings...
  local name=$1; shift
  git "$@" tag "$name" -m "release $name"
  git cat-file tag "$name" >"$out/tag-$name"
}
commit unsigned -c commit.gpgsign=false
tag unsigned -c tag.gpgsign=false
for who in trusted other; do
  commit "pgp-$who" -c commit.gpgsign=true -c user.signingkey="$who@example.com"
  tag "pgp-$who" -c tag.gpgsign=true -c user.signingkey="$who@example.com"
  commit "ssh-$who" -c commit.gpgsign=true -c gpg.format=ssh -c user.signingkey="$work/ssh-$who"
  tag "ssh-$who" -c tag.gpgsign=true -c gpg.format=ssh -c user.signingkey="$work/ssh-$who"
done
