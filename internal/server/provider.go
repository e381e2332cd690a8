package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// provider verifies and reads the webhooks of one kind of Git host; each
// lives in its own file.
type provider struct {
	// name is the provider's path under /hooks/ and its metric label.
	name string
	// proofs are the headers that carry the signature or token; a request
	// with none of them is refused before its body is read.
	proofs []string
	// verify checks that the request was signed with, or carries, secret.
	verify func(h http.Header, body, secret []byte) error
	// parse reads the push from a verified request. An event that is no
	// push gives an error wrapping errNotPush.
	parse func(h http.Header, body []byte) (Push, error)
}

// providers are the Git hosts whose webhooks weir receives.
func providers() []provider {
	return []provider{githubProvider(), gitlabProvider(), giteaProvider(), genericProvider()}
}

// carriesProof reports whether h has one of p's proof headers.
func (p provider) carriesProof(h http.Header) bool {
	for _, name := range p.proofs {
		if h.Get(name) != "" {
			return true
		}
	}
	return false
}

// errNotPush is an event other than a push, such as GitHub's ping.
var errNotPush = errors.New("not a push event")

// onlyPush accepts the event named in header when it is one of pushes.
func onlyPush(header, event string, pushes ...string) error {
	for _, p := range pushes {
		if event == p {
			return nil
		}
	}
	return fmt.Errorf("%w: %s is %q", errNotPush, header, event)
}

// decodePush decodes a JSON payload into v and returns the push it
// describes, checking that it has a branch or tag ref and a repository URL.
func decodePush(body []byte, v any, push func() Push) (Push, error) {
	if err := json.Unmarshal(body, v); err != nil {
		return Push{}, fmt.Errorf("malformed JSON payload: %w", err)
	}
	p := push()
	if !refNames(p.Ref) {
		return Push{}, fmt.Errorf("payload ref %q is neither refs/heads/<branch> nor refs/tags/<tag>", p.Ref)
	}
	if len(p.keys()) == 0 {
		return Push{}, errors.New("payload names no repository URL")
	}
	return p, nil
}

// refNames reports whether ref names a branch or a tag.
func refNames(ref string) bool {
	for _, prefix := range []string{branchPrefix, tagPrefix} {
		if name, ok := strings.CutPrefix(ref, prefix); ok && name != "" {
			return true
		}
	}
	return false
}
