package identity

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
)

// built records the configs a Cache built clients for; its clients are
// the impersonated user's name.
type built struct{ users []string }

func (b *built) build(cfg *rest.Config) (string, error) {
	b.users = append(b.users, cfg.Impersonate.UserName)
	return cfg.Impersonate.UserName, nil
}

func tenant(n int) Identity {
	return Identity{Application: types.NamespacedName{Namespace: fmt.Sprint("team-", n), Name: "app"}, ServiceAccount: "tenant"}
}

func TestCacheBuildsEachIdentityOnceAndDropsTheLeastRecentlyUsed(t *testing.T) {
	b := &built{}
	c, err := NewCache(&rest.Config{Host: "https://127.0.0.1:6443"}, 2, b.build)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		id        Identity
		wantUser  string
		wantBuilt int // configs built so far, weir's own first
	}{
		{Identity{Application: types.NamespacedName{Namespace: "team-1", Name: "app"}}, "", 1}, // weir's own, built by NewCache
		{tenant(1), "system:serviceaccount:team-1:tenant", 2},
		{tenant(1), "system:serviceaccount:team-1:tenant", 2},
		{tenant(2), "system:serviceaccount:team-2:tenant", 3},
		{tenant(1), "system:serviceaccount:team-1:tenant", 3}, // team-2 is now the least recently used
		{tenant(3), "system:serviceaccount:team-3:tenant", 4}, // drops team-2
		{tenant(1), "system:serviceaccount:team-1:tenant", 4},
		{tenant(2), "system:serviceaccount:team-2:tenant", 5}, // built again
	}
	for i, s := range steps {
		got, err := c.Get(s.id)
		if err != nil {
			t.Fatal(err)
		}
		if got != s.wantUser || len(b.users) != s.wantBuilt {
			t.Fatalf("step %d: Get(%v) = %q after %d builds, want %q after %d", i, s.id, got, len(b.users), s.wantUser, s.wantBuilt)
		}
	}
	if c.Len() != 2 {
		t.Errorf("Len = %d, want the size, 2", c.Len())
	}
}

func TestCacheNamesTheIdentityItCannotBuildFor(t *testing.T) {
	c, err := NewCache(&rest.Config{}, 1, func(cfg *rest.Config) (int, error) {
		if cfg.Impersonate.UserName != "" {
			return 0, fmt.Errorf("no clients today")
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(tenant(1))
	if err == nil || err.Error() != "clients for ServiceAccount team-1/tenant: no clients today" {
		t.Errorf("err = %v, want it to name the ServiceAccount", err)
	}
	if c.Len() != 0 {
		t.Errorf("a failed build was kept")
	}
}

// TestCacheClientsKeepTheBaseRateLimit: the clients of every identity,
// weir's own and impersonated ones, are limited as the base config is
// (the controller's --kube-api-qps and --kube-api-burst, or none under API
// Priority and Fairness), never by client-go's default of 5 a second.
func TestCacheClientsKeepTheBaseRateLimit(t *testing.T) {
	for _, base := range []rest.Config{{Host: "https://127.0.0.1:6443", QPS: -1}, {Host: "https://127.0.0.1:6443", QPS: 200, Burst: 400}} {
		var limits [][2]float64
		c, err := NewCache(&base, 2, func(cfg *rest.Config) (struct{}, error) {
			limits = append(limits, [2]float64{float64(cfg.QPS), float64(cfg.Burst)})
			return struct{}{}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get(tenant(1)); err != nil {
			t.Fatal(err)
		}
		want := [2]float64{float64(base.QPS), float64(base.Burst)}
		if len(limits) != 2 || limits[0] != want || limits[1] != want {
			t.Errorf("clients built with QPS and burst %v, want %v for weir's own and the tenant's", limits, want)
		}
	}
}
