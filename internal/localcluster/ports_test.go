package localcluster

import "testing"

func TestFreePortsAreDistinctAndOutsideTheEphemeralPorts(t *testing.T) {
	low, high := ephemeralPorts()
	ports, err := FreePorts(50)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p >= low && p <= high {
			t.Errorf("port %d is in the ephemeral range %d-%d", p, low, high)
		}
		if p < firstPort || seen[p] {
			t.Errorf("port %d: below %d or given twice", p, firstPort)
		}
		seen[p] = true
	}
	if len(ports) != 50 {
		t.Errorf("got %d ports, want 50", len(ports))
	}
}
