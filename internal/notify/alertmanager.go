package notify

import (
	"context"
	"strings"
	"time"
)

// Alertmanager posts each Event as an alert to Alertmanager's
// /api/v2/alerts. An info Event is sent resolved (endsAt its time), so
// that it shows in Alertmanager's history without paging anyone.
type Alertmanager struct {
	poster
	// Address is Alertmanager's base URL.
	Address string
	Token   string
}

// Send posts e.
func (a *Alertmanager) Send(ctx context.Context, e Event) error {
	return a.postJSON(ctx, strings.TrimSuffix(a.Address, "/")+"/api/v2/alerts", bearer(a.Token), alerts(e))
}

// alerts is the body Alertmanager's API takes for e: a list of one alert.
func alerts(e Event) []map[string]any {
	labels := map[string]string{
		"alertname": "Weir" + e.Reason, "severity": e.Severity, "reason": e.Reason,
		"namespace": e.Namespace, "kind": e.Kind, "name": e.Name,
	}
	if e.Application != "" {
		labels["application"] = e.Application
	}
	annotations := map[string]string{"summary": e.title(), "description": e.Message}
	if e.Revision != "" {
		annotations["revision"] = e.Revision
	}
	alert := map[string]any{"labels": labels, "annotations": annotations, "startsAt": e.Time.UTC().Format(time.RFC3339)}
	if e.Severity != "error" {
		alert["endsAt"] = e.Time.Add(time.Second).UTC().Format(time.RFC3339)
	}
	return []map[string]any{alert}
}
