package analysis

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"weir.dev/weir/api/v1alpha1"
	"weir.dev/weir/internal/testenv"
)

const token = "s3cr3t-t0ken-value"

// statsServer answers with the canary's stats to a request that carries the
// token, and, carelessly, echoes the Authorization header it got otherwise.
func statsServer(t testing.TB) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer "+token {
			http.Error(w, "bad credentials: "+got, http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("service") != "web-canary" {
			http.Error(w, "unknown service", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"data": {"successRate": 0.97, "errors": 3, "echo": "`+token+`"}}`)
	}))
}

func webMetric(url, header, path, condition string) v1alpha1.Metric {
	return v1alpha1.Metric{
		Name:                  "stats",
		SuccessCondition:      condition,
		ConsecutiveErrorLimit: ptr.To[int32](0),
		Provider: v1alpha1.MetricProvider{Web: &v1alpha1.WebMetric{
			URL:      url + "/stats?service={{args.canary-service}}",
			Headers:  []v1alpha1.WebHeader{{Name: "Authorization", Value: header}},
			JSONPath: path,
			Timeout:  &metav1.Duration{Duration: 5 * time.Second},
		}},
	}
}

func TestWebMetric(t *testing.T) {
	srv := statsServer(t)
	defer srv.Close()
	ns := testenv.Namespace(t)
	c := clusterClient(t)
	ctx := testenv.Context(t, time.Minute)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "stats-api"}, Data: map[string][]byte{"token": []byte(token)}}
	if err := c.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	ro := testRollout()
	ro.Namespace = ns
	a := NewAnalyzer(c)
	args := map[string]string{"canary-service": "web-canary"}

	tests := []struct {
		name, header, path, condition string
		phase                         v1alpha1.AnalysisPhase
		message                       string
	}{
		{name: "document judged by its fields", header: "Bearer {{secret.stats-api.token}}", path: "{.data}",
			condition: "result.successRate >= 0.95 && result.errors < 10", phase: v1alpha1.AnalysisSuccessful,
			message: `metric "stats" successful: result {"echo":"[redacted]","errors":3,"successRate":0.97}`},
		{name: "a value selected by jsonPath", header: "Bearer {{secret.stats-api.token}}", path: ".data.successRate",
			condition: "result >= 0.99", phase: v1alpha1.AnalysisFailed,
			message: `metric "stats" failed: result 0.97 (successCondition "result >= 0.99" is false)`},
		{name: "a refusal that echoes the secret", header: "Bearer {{secret.stats-api.token}}x", condition: "true",
			phase: v1alpha1.AnalysisFailed, message: `401 Unauthorized`},
		{name: "a missing Secret", header: "Bearer {{secret.nope.token}}", condition: "true",
			phase: v1alpha1.AnalysisFailed, message: `header Authorization: Secret ` + ns + `/nope not found`},
		{name: "a missing key", header: "Bearer {{secret.stats-api.password}}", condition: "true",
			phase: v1alpha1.AnalysisFailed, message: `Secret ` + ns + `/stats-api has no key "password"`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("web-%d", i)
			createTemplate(t, c, ns, name, nil, webMetric(srv.URL, tt.header, tt.path, tt.condition))
			run := runToVerdict(ctx, t, a, ro, stepOf(name), args)
			if run.Phase != tt.phase || !strings.Contains(run.Message, tt.message) {
				t.Fatalf("run = %s %q, want %s containing %q", run.Phase, run.Message, tt.phase, tt.message)
			}
			status, err := json.Marshal(run)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(status), token) {
				t.Fatalf("the secret leaked into the status: %s", status)
			}
		})
	}
}
