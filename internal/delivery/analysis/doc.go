// Package analysis judges a Rollout on metrics: it resolves the analysis
// templates a step names (AnalysisTemplates in the Rollout's namespace, or
// the built-in ones compiled into weir), fills in their arguments, takes the
// measurements that are due, and turns them into a verdict.
//
// The model is Argo Rollouts' AnalysisRun, which users know. Each metric is
// measured Count times, Interval apart, after InitialDelay. A measurement is
// Successful when its successCondition holds, Failed when its
// failureCondition holds, and Inconclusive otherwise; when only one
// condition is given, the other is its negation. A measurement the provider
// could not take is an Error, and more than ConsecutiveErrorLimit of those in
// a row fail the metric. A metric fails when more than FailureLimit
// measurements failed, is Inconclusive when more than InconclusiveLimit were
// inconclusive, and succeeds once all Count measurements are in without
// either. A run fails as soon as one metric fails; it is Inconclusive when
// its metrics are done and one is inconclusive; it succeeds when all succeed.
//
// Conditions are CEL expressions over `result`: a double for Prometheus, the
// decoded JSON document (or the part JSONPath selects) for web metrics. A
// Prometheus query that yields no data, or NaN (a canary without traffic
// gives 0/0), is Inconclusive whatever the conditions say: no data never
// passes. Job metrics are judged by the Job itself: complete is Successful,
// failed is Failed.
//
// All state lives in the v1alpha1.AnalysisRunStatus that the caller keeps in
// the Rollout's status: what is due is derived from the counts and the time
// of the last measurement, and a Job measurement in flight is a Running
// measurement whose Job has a name derived from the run. A restarted
// controller therefore resumes a run where it was, and calling Advance twice
// at the same instant takes no second measurement.
//
// Arguments are written {{args.NAME}} in queries, URLs, headers, bodies,
// conditions and Job specs; a template's defaults are overridden by the
// step's args, which are overridden by the args the controller passes.
// {{secret.NAME.KEY}} in a web header reads a Secret in the Rollout's
// namespace at measurement time; its value never reaches the status, an
// error or a log.
package analysis
