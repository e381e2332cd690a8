package gitwrite

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"weir.dev/weir/internal/source"
	"weir.dev/weir/internal/testenv"
)

func TestRevertToSilentServerTimesOut(t *testing.T) {
	t.Parallel()
	srv := testenv.NewSilentServer(t)
	_, identity := testenv.NewEd25519Key(t)
	host, _ := testenv.NewEd25519Key(t)
	tests := map[string]source.Credentials{
		"http://" + srv.Addr() + "/shop.git": {},
		"ssh://git@" + srv.Addr() + "/shop.git": {
			Identity:   identity,
			KnownHosts: []byte(knownhosts.Line([]string{srv.Addr()}, host.PublicKey()) + "\n"),
		},
	}
	for url, creds := range tests {
		t.Run(url[:strings.Index(url, ":")], func(t *testing.T) {
			t.Parallel()
			req := RevertRequest{URL: url, Branch: "main", Credentials: creds,
				Good: strings.Repeat("a", 40), Bad: strings.Repeat("b", 40)}
			r := NewReverter(t.TempDir(), source.RemoteOptions{Timeout: time.Second})
			done := make(chan error, 1)
			go func() {
				_, err := r.Revert(context.Background(), req)
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(time.Minute):
				t.Fatal("the revert still runs after a minute")
			}
			want := "revert aaaaaaaaaaaa..bbbbbbbbbbbb on branch main of " + url + ": timed out after 1s"
			if err == nil || err.Error() != want {
				t.Fatalf("error = %v, want %q", err, want)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v is not context.DeadlineExceeded", err)
			}
		})
	}
}

func TestRevertRefusesFileSourcesUnlessAllowed(t *testing.T) {
	t.Parallel()
	o := newOrigin(t)
	_, err := NewReverter(t.TempDir(), source.RemoteOptions{}).Revert(context.Background(), o.request(o.URL()))
	if !errors.Is(err, source.ErrFileSourceNotAllowed) {
		t.Fatalf("error = %v, want source.ErrFileSourceNotAllowed", err)
	}
	if !strings.Contains(err.Error(), o.URL()) {
		t.Errorf("error %q does not name the URL", err)
	}
}
