package ui

import (
	"fmt"
	"io"
	"net/url"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// fakeApp is an Application as the controller leaves it: synced, and
// healthy or not, drifted or not.
func fakeApp(ns, name string, healthy bool, drift int) weirv1.Application {
	status := func(ok bool) metav1.ConditionStatus {
		if ok {
			return metav1.ConditionTrue
		}
		return metav1.ConditionFalse
	}
	rev := fmt.Sprintf("main@sha1:%040x", len(name)*7919+len(ns))
	app := weirv1.Application{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       weirv1.ApplicationSpec{Source: weirv1.GitSource{URL: "https://github.com/acme/" + name + ".git"}},
		Status: weirv1.ApplicationStatus{
			LastAppliedRevision: rev,
			Conditions: []metav1.Condition{
				{Type: weirv1.ReadyCondition, Status: status(healthy), Message: "Deployment " + name + " is not available"},
				{Type: weirv1.SyncedCondition, Status: metav1.ConditionTrue},
				{Type: weirv1.HealthyCondition, Status: status(healthy)},
			},
			History: []weirv1.SyncRecord{{Revision: rev, Author: "Ada <ada@example.com>", Message: "Release " + name + "\n\nwith a body", Result: weirv1.SyncSucceeded}},
		},
	}
	for i := range drift {
		app.Status.Drift = append(app.Status.Drift, weirv1.DriftedObject{Object: weirv1.ObjectRef{Kind: "ConfigMap", Name: fmt.Sprint(i)}})
	}
	return app
}

func TestBuildApplications(t *testing.T) {
	apps := []weirv1.Application{
		fakeApp("shop", "web", true, 0),
		fakeApp("shop", "cart", false, 2),
		fakeApp("blog", "web", true, 1),
	}
	apps[2].Spec.Destination.Cluster = &weirv1.ClusterReference{SecretRef: weirv1.LocalObjectReference{Name: "prod"}}
	for _, tc := range []struct {
		query   string
		want    []string // namespace/name, in order
		healthy int
		drifted int
	}{
		{"", []string{"blog/web", "shop/cart", "shop/web"}, 2, 2},
		{"namespace=shop", []string{"shop/cart", "shop/web"}, 1, 1},
		{"health=Degraded", []string{"shop/cart"}, 0, 1},
		{"health=Healthy&q=BLOG", []string{"blog/web"}, 1, 1},
		{"q=release+cart", []string{"shop/cart"}, 0, 1},
		{"q=github.com/acme/web", []string{"blog/web", "shop/web"}, 2, 1},
		{"cluster=elsewhere", nil, 0, 0},
		{"cluster=in-cluster&page=2", nil, 1, 1},
		{"cluster=blog/prod", []string{"blog/web"}, 1, 1},
	} {
		t.Run(tc.query, func(t *testing.T) {
			q, _ := url.ParseQuery(tc.query)
			p := buildApplications(apps, filterOf(q))
			var got []string
			for _, r := range p.Rows {
				got = append(got, r.Namespace+"/"+r.Name)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("rows %v, want %v", got, tc.want)
			}
			if fmt.Sprint(p.Clusters) != "[in-cluster blog/prod]" {
				t.Errorf("clusters %v, want weir's own and blog/prod", p.Clusters)
			}
			if p.Counts.Total != 3 || p.Counts.Healthy != tc.healthy || p.Counts.Drifted != tc.drifted {
				t.Errorf("counts %+v, want 3 in all, %d healthy, %d drifted", p.Counts, tc.healthy, tc.drifted)
			}
		})
	}
}

func TestBuildApplicationsPages(t *testing.T) {
	var apps []weirv1.Application
	for i := range 250 {
		apps = append(apps, fakeApp("ns", fmt.Sprintf("app-%03d", i), true, 0))
	}
	p := buildApplications(apps, filter{Page: 3})
	if p.Of != 3 || len(p.Rows) != 50 || p.Rows[0].Name != "app-200" || p.Counts.Shown != 250 {
		t.Errorf("page 3: %d rows from %q, %d pages, %d shown; want 50 from app-200, 3 pages, 250 shown", len(p.Rows), p.Rows[0].Name, p.Of, p.Counts.Shown)
	}
}

func TestShortRevision(t *testing.T) {
	for in, want := range map[string]string{
		"main@sha1:0123456789abcdef0123456789abcdef01234567": "main@sha1:0123456789ab",
		"v1.2.3@sha1:0123456789ab":                           "v1.2.3@sha1:0123456789ab",
		"":                                                   "",
	} {
		if got := shortRevision(in); got != want {
			t.Errorf("shortRevision(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkApplicationsPage renders the list of 1,000 Applications, a
// page of 100 rows with the counts of all, as the server does for each
// request after it has listed them: server time per page, and bytes sent.
func BenchmarkApplicationsPage(b *testing.B) {
	s, err := New(Options{Config: testConfig})
	if err != nil {
		b.Fatal(err)
	}
	apps := make([]weirv1.Application, 0, 1000)
	for i := range 1000 {
		apps = append(apps, fakeApp(fmt.Sprintf("team-%02d", i%20), fmt.Sprintf("app-%04d", i), i%7 != 0, i%11))
	}
	var sent countingWriter
	b.ReportAllocs()
	for b.Loop() {
		sent = 0
		page := buildApplications(apps, filter{Page: 1})
		if err := s.pages["applications"].ExecuteTemplate(&sent, "layout", pageData{Title: "Applications", Body: page}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(sent), "bytes/page")
}

type countingWriter int

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}

var _ io.Writer = (*countingWriter)(nil)
