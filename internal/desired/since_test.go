package desired

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// TestListedSince: a routine check takes a listing of the repository up to
// half the interval old, a `weir sync` not yet handled takes none, and a
// refresh request takes none older than itself.
func TestListedSince(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	refreshed := now.Add(-5 * time.Second)
	tests := []struct {
		name        string
		annotations map[string]string
		handled     string
		want        time.Time
	}{
		{"routine check", nil, "", now.Add(-30 * time.Second)},
		{"sync asked for", map[string]string{weirv1.RequestedSyncAnnotation: "t1"}, "", now},
		{"sync handled", map[string]string{weirv1.RequestedSyncAnnotation: "t1"}, "t1", now.Add(-30 * time.Second)},
		{"refresh requested", map[string]string{weirv1.RefreshRequestedAnnotation: refreshed.Format(time.RFC3339Nano)}, "", refreshed},
		{"refresh long ago", map[string]string{weirv1.RefreshRequestedAnnotation: now.Add(-time.Hour).Format(time.RFC3339Nano)}, "", now.Add(-30 * time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := &weirv1.Application{}
			app.Annotations = tt.annotations
			app.Spec.Sync.Interval = &metav1.Duration{Duration: time.Minute}
			app.Status.LastHandledSyncRequest = tt.handled
			if got := listedSince(app, now); !got.Equal(tt.want) {
				t.Errorf("listedSince = %s, want %s", got, tt.want)
			}
		})
	}
}
