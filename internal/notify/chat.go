package notify

import (
	"context"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// Slack posts each Event to a Slack incoming webhook, as an attachment
// coloured by severity.
type Slack struct {
	poster
	Address string
}

// Send posts e.
func (s *Slack) Send(ctx context.Context, e Event) error {
	return s.postJSON(ctx, s.Address, nil, slackMessage(e))
}

func slackMessage(e Event) map[string]any {
	color := "good"
	if e.Severity == weirv1.SeverityError {
		color = "danger"
	}
	attachment := map[string]any{"color": color, "title": e.title(), "text": e.Message, "ts": e.Time.Unix()}
	if e.Revision != "" {
		attachment["footer"] = "revision " + e.Revision
	}
	return map[string]any{"username": "weir", "attachments": []any{attachment}}
}

// Teams posts each Event to a Microsoft Teams incoming webhook (a
// workflow's or a connector's) as an Adaptive Card.
type Teams struct {
	poster
	Address string
}

// Send posts e.
func (t *Teams) Send(ctx context.Context, e Event) error {
	return t.postJSON(ctx, t.Address, nil, teamsMessage(e))
}

func teamsMessage(e Event) map[string]any {
	color := "Good"
	if e.Severity == weirv1.SeverityError {
		color = "Attention"
	}
	facts := []any{map[string]any{"title": "Severity", "value": e.Severity}}
	if e.Revision != "" {
		facts = append(facts, map[string]any{"title": "Revision", "value": e.Revision})
	}
	card := map[string]any{
		"type": "AdaptiveCard", "version": "1.4",
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"body": []any{
			map[string]any{"type": "TextBlock", "text": e.title(), "weight": "Bolder", "color": color, "wrap": true},
			map[string]any{"type": "TextBlock", "text": e.Message, "wrap": true},
			map[string]any{"type": "FactSet", "facts": facts},
		},
	}
	return map[string]any{"type": "message", "attachments": []any{map[string]any{
		"contentType": "application/vnd.microsoft.card.adaptive", "content": card,
	}}}
}
