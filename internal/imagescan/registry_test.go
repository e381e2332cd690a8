package imagescan

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"weir.dev/weir/internal/testenv"
)

// TestListTagsFromARealRegistry pushes images to distribution's registry,
// behind basic auth, and reads their tags with a pull secret.
func TestListTagsFromARealRegistry(t *testing.T) {
	reg := testenv.NewOCIRegistry(t, "puller", "s3cret-pass")
	var repo string
	for _, tag := range []string{"1.0.0", "1.1.0", "1.2.0"} {
		repo = reg.PushImage(t, "team/web", tag)
	}
	ctx := context.Background()
	withSecret := Repository{Name: repo, DockerConfigJSON: reg.DockerConfigJSON(), Insecure: true}
	tags, err := ListTags(ctx, withSecret, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(tags)
	if !slices.Equal(tags, []string{"1.0.0", "1.1.0", "1.2.0"}) {
		t.Errorf("tags = %v", tags)
	}

	for name, tc := range map[string]struct {
		repo   Repository
		limits Limits
		want   error
	}{
		"anonymous":      {Repository{Name: repo, Insecure: true}, Limits{}, nil},
		"too many tags":  {withSecret, Limits{MaxTags: 2}, ErrTooManyTags},
		"large response": {withSecret, Limits{MaxResponseBytes: 16}, ErrResponseTooLarge},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ListTags(ctx, tc.repo, tc.limits)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("ListTags = %v, want an error (%v)", err, tc.want)
			}
			if !strings.Contains(err.Error(), repo) || strings.Contains(err.Error(), "s3cret-pass") {
				t.Errorf("error %q should name %s and hold no password", err, repo)
			}
		})
	}
}

// TestListTagsTrustsTheCA reads tags over TLS from a server whose
// certificate only the given CA vouches for.
func TestListTagsTrustsTheCA(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/team/web/tags/list" {
			_, _ = w.Write([]byte(`{"name":"team/web","tags":["1.0.0","2.0.0"]}`))
		}
	}))
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	repo := Repository{Name: strings.TrimPrefix(srv.URL, "https://") + "/team/web"}
	if _, err := ListTags(context.Background(), repo, Limits{}); err == nil {
		t.Error("ListTags without the CA: no error")
	}
	repo.CA = ca
	tags, err := ListTags(context.Background(), repo, Limits{})
	if err != nil || !slices.Equal(tags, []string{"1.0.0", "2.0.0"}) {
		t.Errorf("ListTags with the CA = %v, %v", tags, err)
	}
	repo.CA = []byte("not PEM")
	if _, err := ListTags(context.Background(), repo, Limits{}); err == nil || !strings.Contains(err.Error(), "CA") {
		t.Errorf("ListTags with a bad CA = %v", err)
	}
}
