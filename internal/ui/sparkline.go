package ui

import (
	"fmt"
	"strconv"
	"strings"

	weirv1 "weir.dev/weir/api/v1alpha1"
)

// Sparkline size, in SVG user units.
const (
	sparkWidth  = 160
	sparkHeight = 32
	sparkPad    = 3
)

// sparkline is a small chart of a metric's measurements over time, drawn
// on the server as an inline SVG polyline: values that are not numbers
// are left out; a failed measurement is a marked point.
type sparkline struct {
	Points string // the polyline's points
	Marks  []sparkMark
	Min    string
	Max    string
	// Label describes the chart for screen readers.
	Label string
}

type sparkMark struct {
	X, Y   string
	Failed bool
}

// newSparkline charts ms in time order; nothing when fewer than two
// values are numbers.
func newSparkline(ms []weirv1.Measurement) sparkline {
	type point struct {
		v      float64
		failed bool
	}
	var pts []point
	for _, m := range ms {
		v, err := strconv.ParseFloat(strings.TrimSpace(m.Value), 64)
		if err != nil {
			continue
		}
		pts = append(pts, point{v, m.Phase == weirv1.AnalysisFailed})
	}
	if len(pts) < 2 {
		return sparkline{}
	}
	lo, hi := pts[0].v, pts[0].v
	for _, p := range pts {
		lo, hi = min(lo, p.v), max(hi, p.v)
	}
	span := hi - lo
	var line []string
	s := sparkline{Min: fmtValue(lo), Max: fmtValue(hi)}
	values := make([]string, len(pts))
	for i, p := range pts {
		x := sparkPad + float64(i)*(sparkWidth-2*sparkPad)/float64(len(pts)-1)
		y := float64(sparkHeight) / 2 // a flat line through the middle
		if span > 0 {
			y = sparkHeight - sparkPad - (p.v-lo)/span*(sparkHeight-2*sparkPad)
		}
		line = append(line, fmt.Sprintf("%.1f,%.1f", x, y))
		s.Marks = append(s.Marks, sparkMark{X: fmt.Sprintf("%.1f", x), Y: fmt.Sprintf("%.1f", y), Failed: p.failed})
		values[i] = fmtValue(p.v)
	}
	s.Points = strings.Join(line, " ")
	s.Label = fmt.Sprintf("%d measurements, oldest first: %s", len(pts), strings.Join(values, ", "))
	return s
}

func fmtValue(v float64) string {
	return strconv.FormatFloat(v, 'g', 4, 64)
}
