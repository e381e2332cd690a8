package ui

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/cluster"
)

// pageSize is how many Applications a page of the list shows.
const pageSize = 100

// inCluster names weir's own cluster as an Application's destination; a
// remote one is named by its kubeconfig Secret, "namespace/name".
const inCluster = "in-cluster"

// clusterOf names the cluster app syncs to.
func clusterOf(app *weirv1.Application) string {
	if key, ok := cluster.SecretOf(app); ok {
		return key.String()
	}
	return inCluster
}

// filter is what the list is narrowed to, from the page's query.
type filter struct {
	Namespace, Cluster, Health, Text string
	Page                             int
}

func filterOf(q url.Values) filter {
	page, _ := strconv.Atoi(q.Get("page"))
	return filter{
		Namespace: strings.TrimSpace(q.Get("namespace")),
		Cluster:   q.Get("cluster"),
		Health:    q.Get("health"),
		Text:      strings.TrimSpace(q.Get("q")),
		Page:      max(page, 1),
	}
}

// appRow is one Application as the list shows it.
type appRow struct {
	Namespace, Name, Cluster string
	Revision, Author, Commit string
	Synced, Health           string
	Drift                    int
	Delivery                 string
	Suspended                bool
	Message                  string
}

// counts summarize the Applications that pass the filter.
type counts struct {
	Total, Shown                          int
	Synced, OutOfSync                     int
	Healthy, Progressing, Degraded, Other int
	Drifted, Delivering                   int
}

// applicationsPage is the list's data.
type applicationsPage struct {
	Filter     filter
	Namespaces []string
	Clusters   []string
	Healths    []string
	Counts     counts
	Rows       []appRow
	Page, Of   int
	Notice     string
}

// Health, as the list shows and filters it.
const (
	healthHealthy     = "Healthy"
	healthProgressing = "Progressing"
	healthDegraded    = "Degraded"
	healthUnknown     = "Unknown"
)

func (s *Server) applicationsPage(w http.ResponseWriter, r *http.Request, sess *session) {
	f := filterOf(r.URL.Query())
	list := &weirv1.ApplicationList{}
	var opts []client.ListOption
	if f.Namespace != "" {
		opts = append(opts, client.InNamespace(f.Namespace))
	}
	notice := ""
	if err := sess.c.List(r.Context(), list, opts...); err != nil {
		if !apierrors.IsForbidden(err) {
			s.fail(w, r, err)
			return
		}
		notice = fmt.Sprintf("You may not list Applications %s: %s", where(f.Namespace), reasonOf(err))
	}
	page := buildApplications(list.Items, f)
	page.Notice = notice
	events := "/events?" + url.Values{"watch": {"applications"}, "namespace": {f.Namespace}}.Encode()
	s.render(w, r, sess, "applications", pageData{Title: "Applications", Events: events, Body: page})
}

func where(ns string) string {
	if ns == "" {
		return "in every namespace (name one in the filter)"
	}
	return "in namespace " + ns
}

// buildApplications filters, counts, sorts and pages apps.
func buildApplications(apps []weirv1.Application, f filter) applicationsPage {
	p := applicationsPage{Filter: f, Clusters: []string{inCluster}, Healths: []string{healthHealthy, healthProgressing, healthDegraded, healthUnknown}}
	namespaces, clusters := map[string]bool{}, map[string]bool{}
	rows := make([]appRow, 0, min(len(apps), pageSize))
	p.Counts.Total = len(apps)
	sorted := make([]*weirv1.Application, len(apps))
	for i := range apps {
		sorted[i] = &apps[i]
	}
	sort.Slice(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		return a.Namespace < b.Namespace || a.Namespace == b.Namespace && a.Name < b.Name
	})
	first := (f.Page - 1) * pageSize
	for _, app := range sorted {
		namespaces[app.Namespace] = true
		row := rowOf(app)
		if row.Cluster != inCluster {
			clusters[row.Cluster] = true
		}
		if !f.matches(row, app) {
			continue
		}
		p.Counts.add(row)
		if n := p.Counts.Shown - 1; n >= first && n < first+pageSize {
			rows = append(rows, row)
		}
	}
	p.Rows = rows
	p.Page, p.Of = f.Page, max(1, (p.Counts.Shown+pageSize-1)/pageSize)
	for ns := range namespaces {
		p.Namespaces = append(p.Namespaces, ns)
	}
	sort.Strings(p.Namespaces)
	p.Clusters = append(p.Clusters, slices.Sorted(maps.Keys(clusters))...)
	return p
}

func (c *counts) add(r appRow) {
	c.Shown++
	switch r.Synced {
	case "Synced":
		c.Synced++
	case "OutOfSync":
		c.OutOfSync++
	}
	switch r.Health {
	case healthHealthy:
		c.Healthy++
	case healthProgressing:
		c.Progressing++
	case healthDegraded:
		c.Degraded++
	default:
		c.Other++
	}
	if r.Drift > 0 {
		c.Drifted++
	}
	if r.Delivery != "" {
		c.Delivering++
	}
}

func (f filter) matches(r appRow, app *weirv1.Application) bool {
	if f.Namespace != "" && r.Namespace != f.Namespace ||
		f.Cluster != "" && r.Cluster != f.Cluster ||
		f.Health != "" && r.Health != f.Health {
		return false
	}
	if f.Text == "" {
		return true
	}
	text := strings.ToLower(f.Text)
	for _, field := range []string{r.Namespace, r.Name, r.Revision, r.Author, r.Commit, r.Message, app.Spec.Source.URL} {
		if strings.Contains(strings.ToLower(field), text) {
			return true
		}
	}
	return false
}

func rowOf(app *weirv1.Application) appRow {
	r := appRow{
		Namespace: app.Namespace, Name: app.Name, Cluster: clusterOf(app),
		Revision: shortRevision(app.Status.LastAppliedRevision),
		Synced:   syncedOf(app), Health: healthOf(app),
		Drift: len(app.Status.Drift), Delivery: deliveryOf(app.Status.Rollouts),
		Suspended: app.Spec.Suspend,
	}
	for _, h := range app.Status.History {
		if h.Revision == app.Status.LastAppliedRevision {
			r.Author, r.Commit = h.Author, firstLine(h.Message)
			break
		}
	}
	if ready := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.ReadyCondition); ready != nil && ready.Status != "True" {
		r.Message = ready.Message
	}
	return r
}

func syncedOf(app *weirv1.Application) string {
	switch c := apimeta.FindStatusCondition(app.Status.Conditions, weirv1.SyncedCondition); {
	case c == nil:
		return healthUnknown
	case c.Status == "True":
		return "Synced"
	default:
		return "OutOfSync"
	}
}

// healthOf reads the kstatus conditions: Healthy, else Progressing while
// Reconciling, Degraded when Stalled or not healthy, Unknown before any.
func healthOf(app *weirv1.Application) string {
	conds := app.Status.Conditions
	switch {
	case apimeta.IsStatusConditionTrue(conds, weirv1.StalledCondition):
		return healthDegraded
	case apimeta.IsStatusConditionTrue(conds, weirv1.HealthyCondition):
		return healthHealthy
	case apimeta.IsStatusConditionTrue(conds, weirv1.ReconcilingCondition):
		return healthProgressing
	case apimeta.IsStatusConditionFalse(conds, weirv1.HealthyCondition):
		return healthDegraded
	}
	return healthUnknown
}

// deliveryOf summarizes the Rollouts under way: "" when none is.
func deliveryOf(rollouts []weirv1.RolloutProgress) string {
	var parts []string
	for _, ro := range rollouts {
		if ro.Phase == "" || ro.Phase == weirv1.RolloutIdle {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s at %d%%", ro.Name, ro.Phase, ro.Weight))
	}
	return strings.Join(parts, ", ")
}

// shortRevision abbreviates "main@sha1:<40 hex>" to "main@sha1:<12 hex>".
func shortRevision(rev string) string {
	at := strings.LastIndex(rev, "@")
	const keep = len("sha1:") + 12
	if at < 0 || len(rev) <= at+1+keep {
		return rev
	}
	return rev[:at+1+keep]
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
