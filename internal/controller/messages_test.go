package controller

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	weirv1 "weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/apply"
	"weir.dev/weir/internal/decrypt"
)

// apiError reads an error the API server returned, as it sent it
// (testdata/apierrors/<name>.json, a metav1.Status).
func apiError(t *testing.T, name string) error {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "apierrors", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var status metav1.Status
	if err := json.Unmarshal(data, &status); err != nil {
		t.Fatal(err)
	}
	return &apierrors.StatusError{ErrStatus: status}
}

// failedObject is a SetError of one step naming one object.
func failedObject(op string, ref weirv1.ObjectRef, err error) error {
	return &apply.SetError{Op: op, Total: 3, Objects: []*apply.ObjectError{{Object: ref, Err: err}}}
}

func TestFailureMessage(t *testing.T) {
	job := weirv1.ObjectRef{Group: "batch", Version: "v1", Kind: "Job", Namespace: "shop", Name: "migrate"}
	svc := weirv1.ObjectRef{Version: "v1", Kind: "Service", Namespace: "shop", Name: "broken"}
	db := weirv1.ObjectRef{Version: "v1", Kind: "Secret", Namespace: "shop", Name: "db"}
	secrets := decrypt.NewRedactor()
	secrets.Add("918273645018")
	tests := []struct {
		name string
		err  error
		want string
		// absent must not show in the message.
		absent []string
	}{
		{
			name:   "immutable Job template: the object and the field, not the structure",
			err:    fmt.Errorf("validate: %w", failedObject("apply", job, apiError(t, "job-template-immutable"))),
			want:   "validate: apply: 1 of 3 objects failed: batch/Job shop/migrate: spec.template: field is immutable",
			absent: []string{"PodTemplateSpec{"},
		},
		{
			name: "a short value is quoted",
			err:  failedObject("validate", svc, apiError(t, "service-port-invalid")),
			want: "validate: 1 of 3 objects failed: Service shop/broken: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
		},
		{
			name:   "a Secret's value quoted by server-side apply is redacted",
			err:    failedObject("validate", db, apiError(t, "secret-stringdata-conversion")),
			want:   "Secret shop/db: ",
			absent: []string{"918273645018"},
		},
		{
			name: "an error without causes, on one line",
			err:  errors.New("render deploy:\n  bad\tthing"),
			want: "render deploy: bad thing",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := failureMessage(tt.err, secrets)
			if !strings.Contains(got, tt.want) {
				t.Errorf("message\n%s\ndoes not say\n%s", got, tt.want)
			}
			for _, a := range tt.absent {
				if strings.Contains(got, a) {
					t.Errorf("message shows %q: %s", a, got)
				}
			}
			if len(got) > maxMessage || strings.Contains(got, "\n") {
				t.Errorf("message of %d bytes, or on more than one line: %q", len(got), got)
			}
		})
	}
}

func TestFailureMessageIsBounded(t *testing.T) {
	var objs []*apply.ObjectError
	for i := range 50 {
		ref := weirv1.ObjectRef{Group: "batch", Version: "v1", Kind: "Job", Namespace: "shop", Name: fmt.Sprintf("migrate-%d", i)}
		objs = append(objs, &apply.ObjectError{Object: ref, Err: apiError(t, "job-template-immutable")})
	}
	got := failureMessage(&apply.SetError{Op: "apply", Total: 50, Objects: objs}, nil)
	if len(got) > maxMessage || !strings.HasSuffix(got, truncationMarker) {
		t.Errorf("message of %d bytes, want at most %d ending with the truncation marker: %q", len(got), maxMessage, got)
	}
	if !strings.HasPrefix(got, "apply: 50 of 50 objects failed: batch/Job shop/migrate-0: spec.template: field is immutable") {
		t.Errorf("message does not start with the first object: %q", got)
	}
}

func TestTruncateKeepsRunesWhole(t *testing.T) {
	s := strings.Repeat("é", maxMessage)
	got := truncate(s, maxMessage)
	if len(got) > maxMessage || !strings.HasSuffix(got, truncationMarker) || !strings.HasPrefix(got, "é") {
		t.Errorf("truncate: %d bytes, %q...", len(got), got[:8])
	}
	if strings.ContainsRune(got, '\uFFFD') || !json.Valid([]byte(fmt.Sprintf("%q", got))) {
		t.Error("truncate cut a rune")
	}
}

func TestRetryDelay(t *testing.T) {
	failed := weirv1.SyncRecord{Result: weirv1.SyncFailed}
	ok := weirv1.SyncRecord{Result: weirv1.SyncSucceeded}
	tests := []struct {
		name     string
		history  []weirv1.SyncRecord
		interval time.Duration
		want     time.Duration
	}{
		{"first failure", []weirv1.SyncRecord{failed, ok}, time.Minute, time.Second},
		{"third failure in a row", []weirv1.SyncRecord{failed, failed, failed, ok}, time.Minute, 4 * time.Second},
		{"never after the next poll", []weirv1.SyncRecord{failed, failed, failed, failed, failed, failed, failed, failed}, 30 * time.Second, 30 * time.Second},
		{"interval shorter than a second", []weirv1.SyncRecord{failed}, 500 * time.Millisecond, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := retryDelay(tt.history, tt.interval); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}
