package gitwrite

import (
	"path/filepath"
	"strings"
	"testing"

	"weir.dev/weir/internal/source"
	"weir.dev/weir/internal/testenv"
)

func TestRevertHTTP(t *testing.T) {
	t.Parallel()
	const (
		user     = "alice"
		password = "correct-horse-battery"
		wrong    = "wrong-password-1234"
	)
	tests := []struct {
		name  string
		creds source.Credentials
		url   func(srv *testenv.GitHTTPServer, repo string) string
		want  string // error substring; empty for success
	}{
		{name: "basic auth", creds: source.Credentials{Username: user, Password: password}},
		{name: "credentials in the URL", url: func(srv *testenv.GitHTTPServer, repo string) string {
			return strings.Replace(srv.URL(repo), "://", "://"+user+":"+password+"@", 1)
		}},
		{name: "wrong password", creds: source.Credentials{Username: user, Password: wrong},
			want: "authentication failed: the credentials were rejected"},
		{name: "wrong password in the URL", url: func(srv *testenv.GitHTTPServer, repo string) string {
			return strings.Replace(srv.URL(repo), "://", "://"+user+":"+wrong+"@", 1)
		}, want: "authentication failed"},
		{name: "no credentials", want: "authentication required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := newOrigin(t)
			root, name := filepath.Split(o.Dir)
			srv := testenv.NewGitHTTPServer(t, root, user, password, true)
			req := o.request(srv.URL(name))
			if tt.url != nil {
				req.URL = tt.url(srv, name)
			}
			req.Credentials = tt.creds
			h, err := revert(t, NewReverter(t.TempDir(), fileSources), req)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				checkRevertCommit(t, o, h, o.bad, map[string]string{
					deploymentPath: o.show(t, o.good+":"+deploymentPath),
					configMapPath:  o.show(t, o.good+":"+configMapPath),
				})
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
			for _, secret := range []string{password, wrong} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows a password", err)
				}
			}
			checkHead(t, o, o.bad)
		})
	}
}
