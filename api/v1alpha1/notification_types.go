package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NotificationProvider is where a Notification sends what it routes.
// +kubebuilder:validation:Enum=webhook;slack;msteams;alertmanager;github;gitlab;gitea
type NotificationProvider string

// The providers a Notification may send to.
const (
	// ProviderWebhook posts weir's JSON, signed with HMAC-SHA256 when the
	// Secret holds hmacKey.
	ProviderWebhook NotificationProvider = "webhook"
	// ProviderSlack posts to a Slack incoming webhook.
	ProviderSlack NotificationProvider = "slack"
	// ProviderMSTeams posts to a Microsoft Teams incoming webhook.
	ProviderMSTeams NotificationProvider = "msteams"
	// ProviderAlertmanager posts alerts to Alertmanager's /api/v2/alerts.
	ProviderAlertmanager NotificationProvider = "alertmanager"
	// ProviderGitHub sets commit statuses through GitHub's API.
	ProviderGitHub NotificationProvider = "github"
	// ProviderGitLab sets commit statuses through GitLab's API.
	ProviderGitLab NotificationProvider = "gitlab"
	// ProviderGitea sets commit statuses through Gitea's API.
	ProviderGitea NotificationProvider = "gitea"
)

// Severities a Notification may ask for.
const (
	// SeverityInfo routes every event, Normal and Warning.
	SeverityInfo = "info"
	// SeverityError routes only Warning events: failures.
	SeverityError = "error"
)

// NotificationSpec says which of weir's events go where.
type NotificationSpec struct {
	// Provider is the kind of receiver.
	Provider NotificationProvider `json:"provider"`

	// Address is the receiver's URL: the webhook's, Alertmanager's base URL,
	// or the API's base URL for commit statuses (https://api.github.com,
	// https://gitlab.com, https://gitea.example.com). The key address of
	// the Secret, when present, takes its place: Slack's and Teams' URLs
	// are secrets.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	Address string `json:"address,omitempty"`

	// SecretRef names a Secret of the Notification's namespace with the
	// keys address, token (the API token of commit statuses, a bearer
	// token elsewhere) and hmacKey (the webhook's signing key).
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`

	// Applications are the names of the Applications whose events are
	// routed, in the Notification's namespace; empty routes them all.
	// +kubebuilder:validation:MaxItems=100
	// +optional
	Applications []string `json:"applications,omitempty"`

	// Selector narrows the Applications by their labels.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`

	// Severity is info (every event, the default) or error (failures
	// only).
	// +kubebuilder:validation:Enum=info;error
	// +optional
	Severity string `json:"severity,omitempty"`

	// Reasons are the event reasons routed (Succeeded, ApplyFailed,
	// DriftDetected, Promoted, ...); empty routes every one weir
	// notifies of.
	// +kubebuilder:validation:MaxItems=50
	// +optional
	Reasons []string `json:"reasons,omitempty"`

	// Suspend stops sending while true.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// Notification routes the events of the Applications of its namespace, and
// of their Rollouts, to one provider: a webhook, Slack, Microsoft Teams,
// Alertmanager or the commit statuses of a Git host.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:categories=weir
// +kubebuilder:printcolumn:name="Provider",type=string,JSONPath=`.spec.provider`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Notification struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec NotificationSpec `json:"spec,omitempty"`
}

// NotificationList is a list of Notifications.
//
// +kubebuilder:object:root=true
type NotificationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Notification `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Notification{}, &NotificationList{})
}
