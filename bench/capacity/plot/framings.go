package main

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// framingStyles are the dash patterns and markers of the framings, in the
// order of the run's framings (repeated beyond the fourth).
var framingStyles = []struct {
	dashes []vg.Length
	glyph  draw.GlyphDrawer
}{
	{nil, draw.CircleGlyph{}},
	{[]vg.Length{vg.Points(6), vg.Points(3)}, draw.BoxGlyph{}},
	{[]vg.Length{vg.Points(2), vg.Points(2)}, draw.TriangleGlyph{}},
	{[]vg.Length{vg.Points(8), vg.Points(2), vg.Points(2), vg.Points(2)}, draw.CrossGlyph{}},
}

// drawFramings draws a run of several framings into out: two panels, the
// client → upstream p99 and the upstream → client p99 against sessions,
// each with a line per framing and configuration and the target.
func drawFramings(res *results, label, where string, target float64, out string) error {
	panels := []*plot.Plot{plot.New(), plot.New()}
	panels[0].Title.Text = fmt.Sprintf("%sp99 client frame → upstream (%s)", label, where)
	panels[1].Title.Text = fmt.Sprintf("%sp99 upstream result → client (%s)", label, res.Machine.CPUModel)
	maxX, maxY := 0.0, target
	drawn := 0
	for side, p := range panels {
		p.X.Label.Text = "concurrent sessions"
		p.Y.Label.Text = "p99 added latency, ms (log)"
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Legend.Top, p.Legend.Left = true, true
		p.Add(plotter.NewGrid())
		for i, fr := range res.Framings {
			fs := framingStyles[i%len(framingStyles)]
			for _, st := range styles {
				var pts plotter.XYs
				arrival := false
				for _, r := range res.Runs {
					if r.Framing != fr.Name || r.Config != st.config || r.Purpose != "capacity" {
						continue
					}
					y := r.FrameLatency.P99
					if side == 1 {
						y = r.ResultLatency.P99
					}
					arrival = arrival || r.FrameMethod == "arrival"
					pts = append(pts, plotter.XY{X: float64(r.Sessions), Y: math.Max(y, floorMs)})
					maxX, maxY = math.Max(maxX, float64(r.Sessions)), math.Max(maxY, y)
				}
				if len(pts) == 0 {
					continue
				}
				slices.SortFunc(pts, func(a, b plotter.XY) int { return int(a.X - b.X) })
				l, s, err := plotter.NewLinePoints(pts)
				if err != nil {
					return err
				}
				l.Color, s.Color = st.color, st.color
				l.Width, l.Dashes = vg.Points(1.5), fs.dashes
				s.Shape, s.Radius = fs.glyph, vg.Points(2.5)
				p.Add(l, s)
				entry := label + fr.Name + ", " + st.label
				if side == 0 && arrival {
					entry += " (from the arrival words)"
				}
				p.Legend.Add(entry, l, s)
				drawn++
			}
		}
	}
	if drawn == 0 {
		return errors.New("no capacity runs to plot")
	}
	for _, p := range panels {
		t := plotter.NewFunction(func(float64) float64 { return target })
		t.Color = color.RGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff}
		t.Dashes = []vg.Length{vg.Points(1), vg.Points(3)}
		t.Width = vg.Points(1)
		p.Add(t)
		p.Legend.Add(fmt.Sprintf("target: p99 < %.0f ms", target), t)
		p.X.Min, p.X.Max = 0, maxX*1.05
		// Room above the lines for the legend: a decade per six entries.
		decades := math.Ceil(float64(drawn/len(panels)+1) / 6)
		p.Y.Min, p.Y.Max = floorMs, math.Pow(10, math.Ceil(math.Log10(maxY*1.5))+decades)
	}
	img := vgimg.New(18*vg.Inch, 7*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(12), PadTop: vg.Points(4), PadBottom: vg.Points(4),
		PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	canvases := plot.Align([][]*plot.Plot{panels}, tiles, dc)
	for i, p := range panels {
		p.Draw(canvases[0][i])
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
