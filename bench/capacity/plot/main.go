// Command plot draws the capacity harness's PNG: p99 added latency against
// sessions, one colour per configuration (gateway with the VAD gate off,
// with it on, and the bare relay), a solid line for the client → upstream
// path and a dashed one for upstream → client, with the 20 ms target.
// A run of several framings (-framings) gets two panels, the client →
// upstream p99 on the left and the upstream → client p99 on the right,
// each with one line per framing and configuration: the configuration's
// colour, a dash pattern and a marker per framing. A run's -label starts
// the title and every legend entry.
//
// It is a nested module so that gonum.org/v1/plot stays out of earshot's
// go.mod; the harness (bench/capacity) runs it as
//
//	go run . -in ../../out/capacity.json -out ../../out/capacity.png
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"math"
	"os"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The part of the harness's results JSON the plot reads.
type results struct {
	Label    string `json:"label"`
	Framings []struct {
		Name string `json:"name"`
	} `json:"framings"`
	Machine struct {
		Cores    int    `json:"cores"`
		CPUModel string `json:"cpu_model"`
	} `json:"machine"`
	Settings struct {
		TargetP99Ms   float64 `json:"target_p99_ms"`
		Pin           bool    `json:"pin"`
		TargetCPUList string  `json:"target_cpu_list"`
	} `json:"settings"`
	Runs []capRun `json:"runs"`
}

// capRun is the part of a run the plot reads.
type capRun struct {
	Framing      string `json:"framing"`
	FrameMethod  string `json:"frame_method"`
	Config       string `json:"config"`
	Sessions     int    `json:"sessions"`
	Purpose      string `json:"purpose"`
	Pass         bool   `json:"pass"`
	FrameLatency struct {
		P99 float64 `json:"p99_ms"`
	} `json:"frame_latency"`
	ResultLatency struct {
		P99 float64 `json:"p99_ms"`
	} `json:"result_latency"`
}

func main() {
	in := flag.String("in", "../../out/capacity.json", "the harness's results JSON")
	out := flag.String("out", "../../out/capacity.png", "PNG to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "plot:", err)
		os.Exit(1)
	}
}

var styles = []struct {
	config, label string
	color         color.RGBA
}{
	{"gate-off", "earshot, VAD gate off", color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}},
	{"gate-on", "earshot, VAD gate active", color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}},
	{"relay", "bare relay (baseline)", color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}},
}

const floorMs = 0.05 // log scale: smaller values are drawn here

func run(in, out string) error {
	b, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var res results
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	target := res.Settings.TargetP99Ms
	if target == 0 {
		target = 20
	}
	where := fmt.Sprintf("%d cores shared", res.Machine.Cores)
	if res.Settings.Pin {
		where = "target alone on CPU " + res.Settings.TargetCPUList
	}
	label := ""
	if res.Label != "" {
		label = res.Label + ": "
	}
	if len(res.Framings) > 1 {
		return drawFramings(&res, label, where, target, out)
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%sp99 latency added vs real-time 16 kHz sessions (%s, %s)", label, where, res.Machine.CPUModel)
	p.X.Label.Text = "concurrent sessions"
	p.Y.Label.Text = "p99 added latency, ms (log)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())

	maxX, maxY := 0.0, target
	drawn := 0
	for _, st := range styles {
		var frame, result plotter.XYs
		for _, r := range res.Runs {
			if r.Config != st.config || r.Purpose != "capacity" {
				continue
			}
			frame = append(frame, plotter.XY{X: float64(r.Sessions), Y: math.Max(r.FrameLatency.P99, floorMs)})
			result = append(result, plotter.XY{X: float64(r.Sessions), Y: math.Max(r.ResultLatency.P99, floorMs)})
			maxX = math.Max(maxX, float64(r.Sessions))
			maxY = math.Max(maxY, math.Max(r.FrameLatency.P99, r.ResultLatency.P99))
		}
		if len(frame) == 0 {
			continue
		}
		byX := func(a, b plotter.XY) int { return int(a.X - b.X) }
		slices.SortFunc(frame, byX)
		slices.SortFunc(result, byX)
		for i, pts := range []plotter.XYs{frame, result} {
			l, s, err := plotter.NewLinePoints(pts)
			if err != nil {
				return err
			}
			l.Color, s.Color = st.color, st.color
			l.Width = vg.Points(1.5)
			s.Shape = draw.CircleGlyph{}
			s.Radius = vg.Points(2.5)
			entry := label + st.label + ": client frame → upstream"
			if i == 1 {
				l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
				s.Shape = draw.BoxGlyph{}
				entry = label + st.label + ": upstream result → client"
			}
			p.Add(l, s)
			p.Legend.Add(entry, l, s)
			drawn++
		}
	}
	if drawn == 0 {
		return errors.New("no capacity runs to plot")
	}
	t := plotter.NewFunction(func(float64) float64 { return target })
	t.Color = color.RGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff}
	t.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
	t.Width = vg.Points(1)
	p.Add(t)
	p.Legend.Add(fmt.Sprintf("target: p99 < %.0f ms", target), t)
	p.X.Min, p.X.Max = 0, maxX*1.05
	// One decade more than the data needs: the legend sits above the lines.
	p.Y.Min, p.Y.Max = floorMs, math.Pow(10, math.Ceil(math.Log10(maxY*1.5))+1)
	return p.Save(9*vg.Inch, 6*vg.Inch, out)
}
