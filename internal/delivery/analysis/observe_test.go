package analysis

import (
	"math"
	"strings"
	"testing"

	"github.com/prometheus/common/model"

	"weir.dev/weir/api/v1alpha1"
)

func scalar(v float64) model.Value { return &model.Scalar{Value: model.SampleValue(v)} }

func emptyVector() model.Value { return model.Vector{} }

func vector(values ...float64) model.Value {
	var v model.Vector
	for _, x := range values {
		v = append(v, &model.Sample{Value: model.SampleValue(x)})
	}
	return v
}

func mustObserve(t testing.TB, v model.Value) observation {
	t.Helper()
	o, err := observePrometheus(v)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestObservePrometheus(t *testing.T) {
	tests := []struct {
		name   string
		value  model.Value
		result any
		text   string
		phase  v1alpha1.AnalysisPhase
		err    string
	}{
		{name: "scalar", value: scalar(0.62), result: 0.62, text: "0.62"},
		{name: "one-element vector", value: vector(0.9523809523), result: 0.9523809523, text: "0.952381"},
		{name: "+Inf is a number, judged as such", value: vector(math.Inf(1)), result: math.Inf(1), text: "+Inf"},
		{name: "empty vector", value: emptyVector(), phase: v1alpha1.AnalysisInconclusive},
		{name: "NaN scalar", value: scalar(math.NaN()), phase: v1alpha1.AnalysisInconclusive, text: "NaN"},
		{name: "NaN in a vector (0/0)", value: vector(math.NaN()), phase: v1alpha1.AnalysisInconclusive, text: "NaN"},
		{name: "several series", value: vector(1, 2), err: "returned 2 series"},
		{name: "a matrix", value: model.Matrix{}, err: "returned a matrix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := observePrometheus(tt.value)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.phase != tt.phase || o.value != tt.text || (tt.result != nil && o.result != tt.result) {
				t.Fatalf("observation = %+v, want phase %q value %q result %v", o, tt.phase, tt.text, tt.result)
			}
			if o.phase == v1alpha1.AnalysisInconclusive && !strings.Contains(o.message, "no data") {
				t.Errorf("message %q does not say there is no data", o.message)
			}
		})
	}
}
