package health

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func TestCompute(t *testing.T) {
	tests := []struct {
		file    string
		status  Status
		message string
	}{
		{"deployment-progressing.yaml", InProgress, "Available: 1/3"},
		{"deployment-available.yaml", Current, "Deployment is available. Replicas: 3"},
		{"deployment-unobserved.yaml", InProgress, "generation"},
		{"deployment-deadline-exceeded.yaml", Failed, "Progress deadline exceeded"},
		{"deployment-terminating.yaml", Terminating, "deletion"},
		{"pod-pending.yaml", InProgress, "Pending"},
		{"pod-ready.yaml", Current, "Pod is Ready"},
		{"pod-crashlooping.yaml", Failed, "CrashLoop"},
		{"job-running.yaml", InProgress, "Job in progress"},
		{"job-not-started.yaml", InProgress, "Job not started"},
		{"job-success-criteria-met.yaml", InProgress, "Job in progress. success:1"},
		{"job-terminating.yaml", Terminating, "deletion"},
		{"job-complete.yaml", Current, "Job Completed"},
		{"job-failed.yaml", Failed, "Job Failed"},
		{"customresource-ready.yaml", Current, "Ready"},
		{"customresource-notready.yaml", InProgress, "apps/Deployment shop/web is not Current"},
		{"customresource-stalled.yaml", Failed, "is invalid"},
		{"crd-established.yaml", Current, "CRD is established"},
		{"crd-installing.yaml", InProgress, "Install in progress"},
		{"service-clusterip.yaml", Current, "Service is ready"},
		{"service-loadbalancer-pending.yaml", InProgress, "ClusterIP not set"},
		{"configmap-current.yaml", Current, "Resource is always ready"},
		{"rollout-paused.yaml", Current, "Paused at step 1"},
		{"rollout-aborted.yaml", Current, "failed and was rolled back"},
		{"rollout-stalled.yaml", Failed, "Deployment shop/api, not found"},
		{"rollout-unobserved.yaml", InProgress, "observed generation is 1"},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.file] = true
		t.Run(strings.TrimSuffix(tt.file, ".yaml"), func(t *testing.T) {
			got := Compute(readObject(t, tt.file))
			if got.Status != tt.status || !strings.Contains(got.Message, tt.message) {
				t.Errorf("Compute = %s %q, want %s with %q", got.Status, got.Message, tt.status, tt.message)
			}
			if got.Object.Name == "" || got.Object.Kind == "" {
				t.Errorf("Compute did not identify the object: %+v", got.Object)
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s has no case in TestCompute", f)
		}
	}
}

func TestReportNamesObjectsNotCurrent(t *testing.T) {
	report := Report{Objects: []ObjectStatus{
		Compute(readObject(t, "deployment-available.yaml")),
		Compute(readObject(t, "deployment-progressing.yaml")),
		Compute(readObject(t, "job-failed.yaml")),
	}}
	if report.Healthy() {
		t.Fatal("Healthy() = true with a progressing Deployment and a failed Job")
	}
	want := "2 of 3 objects are not Current: apps/Deployment shop/web: InProgress: Available: 1/3; batch/Job shop/migrate: Failed: Job Failed. failed: 3/1"
	if got := report.String(); got != want {
		t.Errorf("String() =\n%s\nwant\n%s", got, want)
	}
	healthy := Report{Objects: report.Objects[:1]}
	if !healthy.Healthy() || healthy.String() != "all 1 objects are Current" {
		t.Errorf("report of one available Deployment: Healthy()=%v String()=%q", healthy.Healthy(), healthy.String())
	}
}

func readObject(t *testing.T, file string) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	data, err = yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(data); err != nil { // integers as int64, as the API gives them
		t.Fatalf("%s: %v", file, err)
	}
	return obj
}

func TestFailedForGoodOnlyForFailedJobs(t *testing.T) {
	tests := []struct {
		files []string
		want  bool
	}{
		{[]string{"deployment-available.yaml", "job-failed.yaml"}, true},
		{[]string{"job-running.yaml", "deployment-deadline-exceeded.yaml", "pod-crashlooping.yaml"}, false},
		{[]string{"job-complete.yaml"}, false},
	}
	for _, tt := range tests {
		var report Report
		for _, f := range tt.files {
			report.Objects = append(report.Objects, Compute(readObject(t, f)))
		}
		if got := report.FailedForGood(); got != tt.want {
			t.Errorf("%v: FailedForGood() = %v, want %v", tt.files, got, tt.want)
		}
	}
}
