package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition types an Application reports. Ready, Reconciling and Stalled
// follow kstatus conventions, so `kubectl wait --for=condition=Ready` works.
const (
	// ReadyCondition is True when the last revision is applied and healthy.
	ReadyCondition = "Ready"
	// ReconcilingCondition is True while a sync is in progress.
	ReconcilingCondition = "Reconciling"
	// StalledCondition is True when a sync cannot succeed without a change
	// to the Application or to Git (bad input, not a transient failure).
	StalledCondition = "Stalled"
	// SyncedCondition is True when the cluster matches the last revision.
	SyncedCondition = "Synced"
	// HealthyCondition is True when every applied object is Current.
	HealthyCondition = "Healthy"
)

// Annotations that objects in Git may carry.
const (
	// SyncWaveAnnotation orders objects: lower waves are applied and healthy
	// before higher ones start. The default wave is 0.
	SyncWaveAnnotation = "weir.dev/sync-wave"
	// PruneAnnotation set to "disabled" keeps an object in the cluster when
	// it leaves Git.
	PruneAnnotation = "weir.dev/prune"
	// SyncOptionsAnnotation holds comma-separated options for one object:
	// "Prune=false" keeps it when it leaves Git; "Replace=true" deletes and
	// recreates it when an apply fails on an immutable field.
	SyncOptionsAnnotation = "weir.dev/sync-options"
	// HookAnnotation makes an object a hook of the sync: "PreSync" (applied
	// and healthy before everything else), "Sync" (with its wave),
	// "PostSync" (after everything else is healthy), "SyncFail" (only when
	// the sync fails) or "Skip" (never applied).
	HookAnnotation = "weir.dev/hook"
	// HookDeletePolicyAnnotation says when a hook is deleted, as
	// comma-separated policies: "BeforeHookCreation" (the default: the
	// previous one is deleted before it is created again), "HookSucceeded"
	// and "HookFailed" (after its wave succeeded or failed).
	HookDeletePolicyAnnotation = "weir.dev/hook-delete-policy"
	// RequestedSyncAnnotation on an Application asks for a sync now; its
	// value is an opaque token (`weir sync` writes the time).
	RequestedSyncAnnotation = "weir.dev/requested-sync"
	// RefreshRequestedAnnotation on an Application asks the leader to check
	// Git now, as a push webhook received by a standby replica does; its
	// value is the time of the request. Unlike RequestedSyncAnnotation it
	// forces no sync: one follows only if Git moved on.
	RefreshRequestedAnnotation = "weir.dev/refresh-requested"
	// PruneCRDWithInstancesAnnotation set to "true" on a
	// CustomResourceDefinition lets prune delete it while custom resources
	// of its kind exist, and so delete them all, cluster-wide.
	PruneCRDWithInstancesAnnotation = "weir.dev/prune-crd-with-instances"
)

// Annotations weir sets on every object an Application applies.
const (
	// OwnerAnnotation names the Application that applied the object, as
	// "namespace/name". Only that Application applies or prunes it.
	OwnerAnnotation = "weir.dev/owner"
	// OwnerUIDAnnotation is the UID of that Application. An object whose
	// owner is gone (no Application of that name, or one with another UID)
	// is free for another Application to claim; an Application recreated
	// under the same name adopts it.
	OwnerUIDAnnotation = "weir.dev/owner-uid"
)

// ApplicationSpec says where desired state comes from, how it is rendered,
// where it goes and how it is kept in sync.
type ApplicationSpec struct {
	// Source is the Git repository holding the desired state.
	Source GitSource `json:"source"`

	// Render selects how the files under source.path become objects.
	// +optional
	Render RenderSpec `json:"render,omitempty"`

	// Decryption decrypts SOPS-encrypted files of the source with keys
	// from a Secret; without it, an encrypted file fails the render.
	// +optional
	Decryption *Decryption `json:"decryption,omitempty"`

	// Destination is where objects without a namespace of their own go.
	// +optional
	Destination Destination `json:"destination,omitempty"`

	// Sync tunes how often and how weir syncs.
	// +optional
	Sync SyncPolicy `json:"sync,omitempty"`

	// Suspend stops syncing; the cluster is left as it is.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// ServiceAccountName is a ServiceAccount of the Application's namespace
	// that weir impersonates for every request it makes for the
	// Application: the dry run, apply, prune, the reads that decide health
	// and drift, and its Rollouts' copies, Services, router objects and
	// analysis Jobs. The default is the controller's
	// --default-service-account, and without it weir's own identity.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
}

// GitSource names a Git repository, a ref in it and a path.
// +kubebuilder:validation:XValidation:rule="!has(self.verify) || !has(self.verify.mode) || self.verify.mode == 'HEAD' || (has(self.ref) && (has(self.ref.tag) || has(self.ref.semver)))",message="verify.mode Tag and TagAndHEAD need ref.tag or ref.semver"
type GitSource struct {
	// URL of the repository: https://, ssh://, user@host:path or file://.
	// +kubebuilder:validation:Pattern=`^(https?://|ssh://|file://|[A-Za-z0-9._-]+@[A-Za-z0-9._-]+:)`
	URL string `json:"url"`

	// Ref selects the commit; the default is the branch "main".
	// +optional
	Ref GitRef `json:"ref,omitempty"`

	// Path is the directory within the repository to render; the default is
	// the repository's root.
	// +optional
	Path string `json:"path,omitempty"`

	// SecretRef names a Secret in the Application's namespace with
	// credentials: "username" and "password" (or a token as password) for
	// HTTPS; "identity" (a private key) and "known_hosts" for SSH.
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`

	// WebhookSecretRef names a Secret in the Application's namespace whose
	// "token" key signs push webhooks for the repository, as the
	// controller's own webhook secret does: a push proven with it refreshes
	// the Applications that name the same Secret and track the pushed ref,
	// and no other.
	// +optional
	WebhookSecretRef *LocalObjectReference `json:"webhookSecretRef,omitempty"`

	// Verify requires the revision to be signed by a trusted key before
	// anything of it is rendered or applied.
	// +optional
	Verify *GitVerification `json:"verify,omitempty"`

	// SigningSecretRef names a Secret in the Application's namespace whose
	// "signing_key" signs the commits weir pushes to the repository (the
	// reverts of failed releases): an armored OpenPGP private key or an
	// OpenSSH private key, without a passphrase.
	// +optional
	SigningSecretRef *LocalObjectReference `json:"signingSecretRef,omitempty"`
}

// VerificationMode says which Git objects of a revision must be signed.
// +kubebuilder:validation:Enum=HEAD;Tag;TagAndHEAD
type VerificationMode string

// Verification modes, as Flux's GitRepository names them.
const (
	// VerifyHEAD verifies the commit.
	VerifyHEAD VerificationMode = "HEAD"
	// VerifyTag verifies the annotated tag that the ref names.
	VerifyTag VerificationMode = "Tag"
	// VerifyTagAndHEAD verifies both the tag and the commit.
	VerifyTagAndHEAD VerificationMode = "TagAndHEAD"
)

// GitVerification names the keys a revision must be signed with.
type GitVerification struct {
	// Mode is HEAD (the commit must be signed), Tag (the annotated tag
	// that ref.tag or ref.semver selects must be signed) or TagAndHEAD
	// (both); the default is HEAD.
	// +kubebuilder:default=HEAD
	// +optional
	Mode VerificationMode `json:"mode,omitempty"`

	// SecretRef names a Secret in the Application's namespace with the
	// trusted keys: armored OpenPGP public keys under keys ending in
	// ".asc", and SSH keys under "allowed_signers", in ssh-keygen's
	// ALLOWED SIGNERS format. Other keys are ignored.
	SecretRef LocalObjectReference `json:"secretRef"`
}

// VerifiesHEAD reports whether the commit must be signed.
func (v *GitVerification) VerifiesHEAD() bool {
	return v.Mode == "" || v.Mode == VerifyHEAD || v.Mode == VerifyTagAndHEAD
}

// VerifiesTag reports whether the annotated tag must be signed.
func (v *GitVerification) VerifiesTag() bool {
	return v.Mode == VerifyTag || v.Mode == VerifyTagAndHEAD
}

// GitRef selects a commit. At most one field is set; with none, the branch
// "main" is tracked.
// +kubebuilder:validation:XValidation:rule="[has(self.branch), has(self.tag), has(self.semver), has(self.commit)].filter(x, x).size() <= 1",message="set at most one of branch, tag, semver and commit"
type GitRef struct {
	// Branch to track.
	// +optional
	Branch string `json:"branch,omitempty"`
	// Tag to deploy.
	// +optional
	Tag string `json:"tag,omitempty"`
	// SemVer is a range; the highest tag in it is deployed.
	// +optional
	SemVer string `json:"semver,omitempty"`
	// Commit is a full SHA-1 to deploy.
	// +kubebuilder:validation:Pattern=`^[0-9a-f]{40}$`
	// +optional
	Commit string `json:"commit,omitempty"`
}

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	// Name of the object.
	Name string `json:"name"`
}

// RenderSpec selects the renderer.
// +kubebuilder:validation:XValidation:rule="!has(self.helm) || (has(self.type) && self.type == 'helm')",message="render.helm needs render.type helm"
type RenderSpec struct {
	// Type is "plain" (every YAML/JSON file, recursively), "kustomize",
	// "helm", or empty to choose kustomize when the path holds a
	// kustomization file, helm (with the chart's default values) when it
	// holds a Chart.yaml, and plain otherwise.
	// +kubebuilder:validation:Enum="";plain;kustomize;helm
	// +optional
	Type string `json:"type,omitempty"`

	// Helm tunes the rendering of a Helm chart (type helm).
	// +optional
	Helm *HelmSpec `json:"helm,omitempty"`
}

// HelmSpec renders a Helm chart, as `helm template` does, into objects that
// weir applies, prunes and health-checks like any others: there is no Helm
// release Secret. The chart is a directory of the Git checkout or a chart
// pulled from a chart repository.
//
// Values are merged as Helm, Flux and Argo CD merge them, each source
// overriding the ones before it: the chart's values.yaml, then each of
// valuesFiles in order, then the inline values.
//
// Hooks become sync waves: pre-install and pre-upgrade hooks are applied in
// wave -100, post-install and post-upgrade hooks in wave 100, each plus its
// helm.sh/hook-weight; test, delete and rollback hooks are left out.
// +kubebuilder:validation:XValidation:rule="!(has(self.chart) && has(self.chartRef))",message="set at most one of chart and chartRef"
type HelmSpec struct {
	// Chart is the chart's directory, relative to source.path; the default
	// is source.path itself. Its dependencies must be vendored in its
	// charts/ directory: none are downloaded.
	// +optional
	Chart string `json:"chart,omitempty"`

	// ChartRef pulls the chart from a chart repository instead of Git.
	// +optional
	ChartRef *HelmChartRef `json:"chartRef,omitempty"`

	// ReleaseName is the release name templates see; the default is the
	// Application's name.
	// +kubebuilder:validation:MaxLength=53
	// +optional
	ReleaseName string `json:"releaseName,omitempty"`

	// Namespace is the release namespace: templates see it as
	// .Release.Namespace, and namespaced objects that name no namespace go
	// there. The default is the destination namespace.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// ValuesFiles are values files in the Git checkout, relative to
	// source.path, merged in order over the chart's values. A file outside
	// the checkout is refused.
	// +optional
	ValuesFiles []string `json:"valuesFiles,omitempty"`

	// Values are merged over the chart's values and valuesFiles.
	// +kubebuilder:validation:Type=object
	// +kubebuilder:pruning:PreserveUnknownFields
	// +optional
	Values *apiextensionsv1.JSON `json:"values,omitempty"`

	// IncludeCRDs renders the chart's crds/ directories; the default is
	// true. CRDs are applied before everything else.
	// +optional
	IncludeCRDs *bool `json:"includeCRDs,omitempty"`
}

// HelmChartRef names a chart in a chart repository.
type HelmChartRef struct {
	// Repository is an HTTP(S) chart repository (serving index.yaml) or an
	// OCI registry path, as "oci://registry.example.com/charts".
	// +kubebuilder:validation:Pattern=`^(https?|oci)://`
	Repository string `json:"repository"`

	// Name of the chart in the repository.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// Version is an exact chart version or a semver range, of which the
	// highest version is used.
	// +kubebuilder:validation:MinLength=1
	Version string `json:"version"`

	// SecretRef names a Secret in the Application's namespace with the
	// repository's "username" and "password".
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`

	// PlainHTTP talks to an OCI registry over HTTP rather than HTTPS.
	// +optional
	PlainHTTP bool `json:"plainHTTP,omitempty"`
}

// DecryptionProviderSOPS is the one Decryption provider: Mozilla SOPS.
const DecryptionProviderSOPS = "sops"

// Decryption names the keys that decrypt SOPS-encrypted files, as Flux's
// Kustomization does.
type Decryption struct {
	// Provider of the encryption; only "sops".
	// +kubebuilder:validation:Enum=sops
	Provider string `json:"provider"`

	// SecretRef names a Secret in the Application's namespace holding the
	// private keys: age identities in keys ending ".agekey" and armored
	// OpenPGP private keys in keys ending ".asc". Only these keys decrypt
	// this Application's files.
	SecretRef LocalObjectReference `json:"secretRef"`
}

// Destination is where objects go.
type Destination struct {
	// Namespace for namespaced objects that do not name one; the default is
	// the Application's namespace.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// Cluster is a remote cluster to sync to instead of the cluster weir
	// runs in. The default is weir's own cluster.
	// +optional
	Cluster *ClusterReference `json:"cluster,omitempty"`
}

// ClusterKubeconfigKey is the key of a cluster Secret that holds the
// kubeconfig, as Flux's kubeConfig.secretRef reads it.
const ClusterKubeconfigKey = "value"

// ClusterReference names a remote cluster by the Secret that holds its
// kubeconfig.
// +kubebuilder:validation:XValidation:rule="size(self.secretRef.name) > 0",message="cluster.secretRef.name must name a Secret"
type ClusterReference struct {
	// SecretRef names a Secret in the Application's namespace whose "value"
	// key holds a kubeconfig for the remote cluster. Its current context is
	// used. Only static credentials are accepted: a bearer token, or a
	// client certificate and key, with the CA inline. Exec plugins, auth
	// providers and file paths (certificate-authority, client-certificate,
	// client-key, tokenFile) are refused.
	SecretRef LocalObjectReference `json:"secretRef"`
}

// SyncPolicy tunes syncing.
type SyncPolicy struct {
	// Interval between checks of Git; the default is one minute, and it is
	// held between one second and 24 hours.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]{1,5}(\.[0-9]{1,9})?(ns|us|µs|μs|ms|s|m|h)){1,6}$`
	Interval *metav1.Duration `json:"interval,omitempty"`

	// Timeout for the applied objects to become healthy, per wave; the
	// default is five minutes, and it is held between one second and an hour.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]{1,5}(\.[0-9]{1,9})?(ns|us|µs|μs|ms|s|m|h)){1,6}$`
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Prune deletes objects that left Git; the default is true.
	// +optional
	Prune *bool `json:"prune,omitempty"`

	// AllowEmpty lets a render with no objects prune everything that was
	// applied before. Without it such a sync is refused.
	// +optional
	AllowEmpty bool `json:"allowEmpty,omitempty"`

	// SelfHeal re-applies Git's state when a managed object drifts (is
	// changed or deleted outside weir). Without it, drift is only reported
	// in status.drift, the Synced condition and an Event.
	// +optional
	SelfHeal bool `json:"selfHeal,omitempty"`

	// PreventDrift has the API server refuse changes to the Application's
	// objects (create, update, delete, scale) by anyone but weir and the
	// controller's break-glass groups, with a ValidatingAdmissionPolicy
	// binding that weir keeps. Unset, the controller's default applies
	// (`weir controller --prevent-drift`); false turns it off whatever the
	// default.
	// +optional
	PreventDrift *bool `json:"preventDrift,omitempty"`
}

// ObjectRef identifies an applied object.
type ObjectRef struct {
	// Group of the object's kind; empty for the core group.
	// +optional
	Group string `json:"group,omitempty"`
	// Version the object was applied with.
	Version string `json:"version"`
	// Kind of the object.
	Kind string `json:"kind"`
	// Namespace of the object; empty when cluster-scoped.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Name of the object.
	Name string `json:"name"`
}

// SyncResult is the outcome of a sync.
type SyncResult string

// Outcomes of a sync.
const (
	SyncSucceeded SyncResult = "Succeeded"
	SyncFailed    SyncResult = "Failed"
)

// SyncRecord is one entry of the audit trail: which commit, who wrote it,
// when it was synced and what happened.
type SyncRecord struct {
	// Revision is the commit, as "<ref>@sha1:<hash>".
	Revision string `json:"revision"`
	// Author of the commit, "Name <email>".
	// +optional
	Author string `json:"author,omitempty"`
	// Message is the commit's subject line.
	// +optional
	Message string `json:"message,omitempty"`
	// Trigger says what started the sync: interval, change, manual.
	// +optional
	Trigger string `json:"trigger,omitempty"`
	// StartedAt is when the sync started.
	StartedAt metav1.Time `json:"startedAt"`
	// FinishedAt is when the sync ended.
	FinishedAt metav1.Time `json:"finishedAt"`
	// Result of the sync.
	Result SyncResult `json:"result"`
	// Summary counts what changed, or says why the sync failed.
	// +optional
	Summary string `json:"summary,omitempty"`
}

// MaxHistory bounds the audit trail kept in status.
const MaxHistory = 10

// ApplicationStatus is what weir observed and did.
type ApplicationStatus struct {
	// ObservedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling, Stalled, Synced, Healthy.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// LastAppliedRevision is the revision last applied in full.
	// +optional
	LastAppliedRevision string `json:"lastAppliedRevision,omitempty"`

	// LastAttemptedRevision is the revision of the last sync, whatever its result.
	// +optional
	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`

	// LastHandledSyncRequest is the value of the requested-sync annotation
	// last acted on.
	// +optional
	LastHandledSyncRequest string `json:"lastHandledSyncRequest,omitempty"`

	// Inventory lists the objects weir applied; only these are ever pruned.
	// +optional
	Inventory []ObjectRef `json:"inventory,omitempty"`

	// History holds the last syncs, newest first.
	// +optional
	History []SyncRecord `json:"history,omitempty"`

	// Drift lists the managed objects that were changed outside weir and
	// no longer match the last applied revision; empty when the cluster
	// matches Git.
	// +optional
	Drift []DriftedObject `json:"drift,omitempty"`

	// Rollouts are the progressive deliveries of the Application's
	// Rollouts: which workload template each holds back and how far its
	// release has come.
	// +optional
	Rollouts []RolloutProgress `json:"rollouts,omitempty"`
}

// RolloutProgress is where one Rollout of an Application stands.
type RolloutProgress struct {
	// Name of the Rollout, in the Application's destination.
	Name string `json:"name"`
	// Namespace of the Rollout.
	Namespace string `json:"namespace"`
	// Phase of the Rollout.
	// +optional
	Phase RolloutPhase `json:"phase,omitempty"`
	// Step is the index of the step running.
	// +optional
	Step int32 `json:"step"`
	// Weight is the percentage of traffic on the canary.
	// +optional
	Weight int32 `json:"weight"`
	// Held is true when Git's pod template of the target Deployment is
	// held back from the stable Deployment for delivery.
	// +optional
	Held bool `json:"held,omitempty"`
	// Message says what the Rollout does, or which check failed and what
	// it measured.
	// +optional
	Message string `json:"message,omitempty"`
	// LastFailure is the Rollout's latest failed release: the revision,
	// the check that failed with the value it measured, and the revert
	// commit weir pushed, if any.
	// +optional
	LastFailure string `json:"lastFailure,omitempty"`
}

// DriftedObject is a managed object that no longer matches Git, and who
// changed it.
type DriftedObject struct {
	// Object that drifted.
	Object ObjectRef `json:"object"`
	// Deleted is true when the object is gone from the cluster.
	// +optional
	Deleted bool `json:"deleted,omitempty"`
	// Fields are the paths whose live values differ from Git's, as
	// structured-merge-diff paths (".spec.replicas").
	// +optional
	Fields []string `json:"fields,omitempty"`
	// Managers are the field managers that changed those fields, from the
	// object's managedFields ("kubectl", "kubectl-edit", "kubectl (scale)").
	// +optional
	Managers []string `json:"managers,omitempty"`
	// DetectedAt is when weir first saw this drift.
	DetectedAt metav1.Time `json:"detectedAt"`
}

// MaxDriftFields bounds the field paths recorded per drifted object.
const MaxDriftFields = 20

// Application keeps a set of objects in a cluster matching a path in Git.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=app;apps,categories=weir
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.status.lastAppliedRevision`
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="Health",type=string,JSONPath=`.status.conditions[?(@.type=="Healthy")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Application struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ApplicationSpec   `json:"spec,omitempty"`
	Status ApplicationStatus `json:"status,omitempty"`
}

// ApplicationList is a list of Applications.
//
// +kubebuilder:object:root=true
type ApplicationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Application `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Application{}, &ApplicationList{})
}

// PruneEnabled reports whether objects that left Git are deleted.
func (s SyncPolicy) PruneEnabled() bool { return s.Prune == nil || *s.Prune }

// PreventDriftOr reports whether the API server is to refuse changes to the
// Application's objects by others, given the controller's default.
func (s SyncPolicy) PreventDriftOr(byDefault bool) bool {
	if s.PreventDrift == nil {
		return byDefault
	}
	return *s.PreventDrift
}

// String returns the ref as a user writes it: "branch main", "tag v1", ...
func (r GitRef) String() string {
	switch {
	case r.Commit != "":
		return "commit " + r.Commit
	case r.Tag != "":
		return "tag " + r.Tag
	case r.SemVer != "":
		return "semver " + r.SemVer
	default:
		return "branch " + r.BranchOrDefault()
	}
}

// BranchOrDefault is the tracked branch when no other ref is set.
func (r GitRef) BranchOrDefault() string {
	if r.Branch == "" {
		return "main"
	}
	return r.Branch
}

// IncludeCRDsOrDefault reports whether the chart's CRDs are rendered.
func (h *HelmSpec) IncludeCRDsOrDefault() bool { return h.IncludeCRDs == nil || *h.IncludeCRDs }

// RemoteCluster returns the name of the Secret of the remote cluster the
// Application syncs to, or "" when it syncs to weir's own cluster.
func (a *Application) RemoteCluster() string {
	if a.Spec.Destination.Cluster == nil {
		return ""
	}
	return a.Spec.Destination.Cluster.SecretRef.Name
}

// DestinationNamespace is where namespaced objects that name no namespace go.
func (a *Application) DestinationNamespace() string {
	if a.Spec.Destination.Namespace != "" {
		return a.Spec.Destination.Namespace
	}
	return a.Namespace
}

// Key identifies the object across versions of its kind: an object applied
// as v1beta1 and rendered now as v1 is the same object. Keys are comparable
// and serve as map keys.
func (r ObjectRef) Key() ObjectRef {
	r.Version = ""
	return r
}

// String names the object as messages do: "apps/Deployment shop/web",
// "Namespace shop".
func (r ObjectRef) String() string {
	kind := r.Kind
	if r.Group != "" {
		kind = r.Group + "/" + kind
	}
	if r.Namespace == "" {
		return kind + " " + r.Name
	}
	return kind + " " + r.Namespace + "/" + r.Name
}
