package traffic

import "testing"

func TestReplicaCounts(t *testing.T) {
	tests := []struct {
		replicas, weight, canary, stable int32
	}{
		{10, 0, 0, 10},
		{10, 10, 1, 9},
		{10, 25, 3, 8}, // both round up: one pod of surge
		{10, 50, 5, 5},
		{10, 100, 10, 0},
		{4, 25, 1, 3},
		{4, 1, 1, 4},
		{4, 99, 4, 1},
		{1, 0, 0, 1},
		{1, 5, 1, 1}, // each side keeps a pod while 0 < weight < 100
		{1, 95, 1, 1},
		{1, 100, 1, 0},
		{3, 33, 1, 3},
		{0, 50, 0, 0},
	}
	for _, tt := range tests {
		canary, stable := replicaCounts(tt.replicas, tt.weight)
		if canary != tt.canary || stable != tt.stable {
			t.Errorf("replicaCounts(%d, %d) = %d, %d; want %d, %d", tt.replicas, tt.weight, canary, stable, tt.canary, tt.stable)
		}
	}
}
