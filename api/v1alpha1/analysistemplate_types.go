package v1alpha1

import (
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AnalysisTemplateSpec holds reusable metric checks.
type AnalysisTemplateSpec struct {
	// Args the metrics use as {{args.NAME}}; an arg without a value must be
	// passed by the Rollout.
	// +optional
	Args []AnalysisArgument `json:"args,omitempty"`

	// Metrics are measured together; the analysis fails when any fails.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	Metrics []Metric `json:"metrics"`
}

// AnalysisArgument declares an argument and its default.
type AnalysisArgument struct {
	// Name of the argument.
	Name string `json:"name"`
	// Value is the default.
	// +optional
	Value *string `json:"value,omitempty"`
}

// Metric is one check, measured Count times, Interval apart.
type Metric struct {
	// Name of the metric, unique in the template.
	Name string `json:"name"`

	// Interval between measurements; the default is 30 seconds, and it is
	// held between one second and an hour.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]{1,5}(\.[0-9]{1,9})?(ns|us|µs|μs|ms|s|m|h)){1,6}$`
	Interval *metav1.Duration `json:"interval,omitempty"`

	// InitialDelay before the first measurement; at most an hour.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]{1,5}(\.[0-9]{1,9})?(ns|us|µs|μs|ms|s|m|h)){1,6}$`
	InitialDelay *metav1.Duration `json:"initialDelay,omitempty"`

	// Count of measurements; the default is 1.
	// +kubebuilder:validation:Minimum=1
	// +optional
	Count *int32 `json:"count,omitempty"`

	// SuccessCondition is a CEL expression over `result` (a number, or the
	// decoded JSON of a web metric) that is true when the measurement is
	// good. A measurement neither successful nor failed is inconclusive.
	// +optional
	SuccessCondition string `json:"successCondition,omitempty"`

	// FailureCondition is a CEL expression over `result` that is true when
	// the measurement is bad.
	// +optional
	FailureCondition string `json:"failureCondition,omitempty"`

	// FailureLimit is how many failed measurements are tolerated; the
	// default is 0.
	// +kubebuilder:validation:Minimum=0
	// +optional
	FailureLimit int32 `json:"failureLimit,omitempty"`

	// InconclusiveLimit is how many inconclusive measurements are tolerated
	// before the metric is Inconclusive, which pauses the rollout; the
	// default is 0.
	// +kubebuilder:validation:Minimum=0
	// +optional
	InconclusiveLimit int32 `json:"inconclusiveLimit,omitempty"`

	// ConsecutiveErrorLimit is how many measurements in a row may fail to
	// be taken (the provider errs) before the metric fails; the default is 4.
	// +kubebuilder:validation:Minimum=0
	// +optional
	ConsecutiveErrorLimit *int32 `json:"consecutiveErrorLimit,omitempty"`

	// Provider takes the measurement.
	Provider MetricProvider `json:"provider"`
}

// MetricProvider holds exactly one way to measure.
// +kubebuilder:validation:MinProperties=1
// +kubebuilder:validation:MaxProperties=1
type MetricProvider struct {
	// Prometheus runs a PromQL query; the result is a number.
	// +optional
	Prometheus *PrometheusMetric `json:"prometheus,omitempty"`
	// Web fetches a JSON document over HTTP.
	// +optional
	Web *WebMetric `json:"web,omitempty"`
	// Job runs a Kubernetes Job; it succeeds when the Job completes.
	// +optional
	Job *JobMetric `json:"job,omitempty"`
}

// PrometheusMetric is a PromQL query that yields one number.
type PrometheusMetric struct {
	// Address of the Prometheus server, "http://prometheus:9090".
	Address string `json:"address"`
	// Query in PromQL; it must yield a scalar or a one-element vector.
	Query string `json:"query"`
	// Timeout of the query; the default is 30 seconds, at most two minutes.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]{1,5}(\.[0-9]{1,9})?(ns|us|µs|μs|ms|s|m|h)){1,6}$`
	Timeout *metav1.Duration `json:"timeout,omitempty"`
}

// WebMetric fetches a JSON document.
type WebMetric struct {
	// URL to fetch.
	URL string `json:"url"`
	// Method; the default is GET.
	// +optional
	Method string `json:"method,omitempty"`
	// Headers to send. A value taken from a Secret is written
	// "{{secret.NAME.KEY}}" and never logged.
	// +optional
	Headers []WebHeader `json:"headers,omitempty"`
	// Body to send.
	// +optional
	Body string `json:"body,omitempty"`
	// JSONPath selects the result inside the document; the default is the
	// whole document.
	// +optional
	JSONPath string `json:"jsonPath,omitempty"`
	// Timeout of the request; the default is 10 seconds, at most two
	// minutes.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]{1,5}(\.[0-9]{1,9})?(ns|us|µs|μs|ms|s|m|h)){1,6}$`
	Timeout *metav1.Duration `json:"timeout,omitempty"`
}

// WebHeader is a header sent with a web metric's request.
type WebHeader struct {
	// Name of the header.
	Name string `json:"name"`
	// Value of the header.
	Value string `json:"value"`
}

// JobMetric runs a Job to completion.
type JobMetric struct {
	// Spec of the Job.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	// +kubebuilder:pruning:PreserveUnknownFields
	Spec batchv1.JobSpec `json:"spec"`
}

// AnalysisPhase is the verdict of a measurement, a metric or a run.
type AnalysisPhase string

// Verdicts.
const (
	AnalysisRunning      AnalysisPhase = "Running"
	AnalysisSuccessful   AnalysisPhase = "Successful"
	AnalysisFailed       AnalysisPhase = "Failed"
	AnalysisInconclusive AnalysisPhase = "Inconclusive"
	AnalysisError        AnalysisPhase = "Error"
)

// AnalysisRunStatus is one run of analysis templates, at a step or in the
// background.
type AnalysisRunStatus struct {
	// Name identifies the run: "step-2", "background", "pre-promotion".
	Name string `json:"name"`
	// Step is the canary step that started it; -1 for the background run.
	// +optional
	Step int32 `json:"step,omitempty"`
	// Phase is the verdict so far.
	Phase AnalysisPhase `json:"phase"`
	// StartedAt is when the run began.
	StartedAt metav1.Time `json:"startedAt"`
	// Metrics are the verdicts per metric.
	// +optional
	Metrics []MetricResult `json:"metrics,omitempty"`
	// Message says which metric decided, with the measured value.
	// +optional
	Message string `json:"message,omitempty"`
}

// MetricResult is the state of one metric of a run.
type MetricResult struct {
	// Name of the metric, "template/metric".
	Name string `json:"name"`
	// Phase of the metric.
	Phase AnalysisPhase `json:"phase"`
	// Successful, Failed, Inconclusive and Error count measurements.
	// +optional
	Successful int32 `json:"successful,omitempty"`
	// +optional
	Failed int32 `json:"failed,omitempty"`
	// +optional
	Inconclusive int32 `json:"inconclusive,omitempty"`
	// +optional
	Error int32 `json:"error,omitempty"`
	// ConsecutiveErrors counts provider errors in a row.
	// +optional
	ConsecutiveErrors int32 `json:"consecutiveErrors,omitempty"`
	// Measurements are the last few, newest last.
	// +optional
	Measurements []Measurement `json:"measurements,omitempty"`
}

// MaxMeasurements bounds MetricResult.Measurements.
const MaxMeasurements = 10

// Measurement is one value taken by a provider.
type Measurement struct {
	// Phase of the measurement.
	Phase AnalysisPhase `json:"phase"`
	// Value measured, as text ("0.93", a JSON document, "Job complete").
	// +optional
	Value string `json:"value,omitempty"`
	// Message explains an error.
	// +optional
	Message string `json:"message,omitempty"`
	// At is when it was taken.
	At metav1.Time `json:"at"`
}

// AnalysisTemplate holds reusable metric checks that Rollouts run.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=at,categories=weir
type AnalysisTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec AnalysisTemplateSpec `json:"spec,omitempty"`
}

// AnalysisTemplateList is a list of AnalysisTemplates.
//
// +kubebuilder:object:root=true
type AnalysisTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AnalysisTemplate `json:"items"`
}

func init() {
	SchemeBuilder.Register(&AnalysisTemplate{}, &AnalysisTemplateList{})
}
