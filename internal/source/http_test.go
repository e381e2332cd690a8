package source

import (
	"path/filepath"
	"strings"
	"testing"

	"weir.dev/weir/internal/testenv"
)

func TestFetchHTTP(t *testing.T) {
	t.Parallel()
	const (
		user     = "alice"
		password = "correct-horse-battery"
		wrong    = "wrong-password-1234"
	)
	repo := testenv.NewGitRepo(t)
	commit := commitFiles(repo, "over http", map[string]string{"app.yaml": "kind: ConfigMap"})
	root, name := filepath.Split(repo.Dir)

	secured := testenv.NewGitHTTPServer(t, root, user, password, true)
	open := testenv.NewGitHTTPServer(t, root, "", "", false)
	tokenOnly := testenv.NewGitHTTPServer(t, root, defaultHTTPUser, password, true)
	withUserinfo := func(srv *testenv.GitHTTPServer, userinfo string) string {
		return strings.Replace(srv.URL(name), "://", "://"+userinfo+"@", 1)
	}

	tests := []struct {
		name  string
		url   string
		creds Credentials
		want  string // error substring; empty for success
	}{
		{"https with credentials", secured.URL(name), Credentials{Username: user, Password: password}, ""},
		{"https with a token", tokenOnly.URL(name), Credentials{Password: password}, ""},
		{"http anonymous", open.URL(name), Credentials{}, ""},
		{"credentials in the URL", withUserinfo(secured, user+":"+password), Credentials{}, ""},
		{"no credentials", secured.URL(name), Credentials{}, "authentication required"},
		{"wrong password", secured.URL(name), Credentials{Username: user, Password: wrong},
			"authentication failed: the credentials were rejected"},
		{"wrong password in the URL", withUserinfo(secured, user+":"+wrong), Credentials{},
			"fetch branch main from " + withUserinfo(secured, "redacted") + ": authentication failed"},
		{"missing repository", secured.URL("nope.git"), Credentials{Username: user, Password: password},
			"repository not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkFetch(t, tt.url, tt.creds, commit, tt.want)
			if err == nil {
				return
			}
			for _, secret := range []string{password, wrong} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows a password", err)
				}
			}
		})
	}
}
