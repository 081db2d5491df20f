package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// mainCompare is `capacity compare`: it reads two or more runs' JSON
// files (-before, -after, then any further files, in that order) and
// prints a markdown table of each file's largest passing sessions by
// framing and configuration, and one of every level: sessions, frame p99,
// result p99, CPU-ms per audio-second and the verdict, per file (with two
// files, also the CPU after ÷ before). A file's columns are named by its
// -label, or by its file name (capacity.json by its folder's).
func mainCompare(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	before := fs.String("before", "", "the JSON of the run before (e.g. bench/out/capacity-<time>.json)")
	after := fs.String("after", "", "the JSON of the run after")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: capacity compare -before a.json -after b.json [more.json ...]  (or: compare a.json b.json ...)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	var files []string
	for _, f := range append([]string{*before, *after}, fs.Args()...) {
		if f != "" {
			files = append(files, f)
		}
	}
	if len(files) < 2 {
		return errors.New("compare: give two or more runs' JSON files (-before a.json -after b.json)")
	}
	var cols []compareCol
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		res := &results{}
		if err := json.Unmarshal(b, res); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		name := res.Label
		if name == "" { // the file's name; capacity.json's folder
			if name = strings.TrimSuffix(filepath.Base(f), ".json"); name == "capacity" {
				name = filepath.Base(filepath.Dir(f))
			}
		}
		for slices.ContainsFunc(cols, func(c compareCol) bool { return c.Name == name }) {
			name += "'"
		}
		cols = append(cols, compareCol{Name: name, Res: res})
	}
	_, err := io.WriteString(w, compareMarkdown(cols))
	return err
}

// compareCol is one run compared: its column name and results.
type compareCol struct {
	Name string
	Res  *results
}

// levelKey is one row of the level table.
type levelKey struct {
	Framing, Config string
	Sessions        int
}

// compareMarkdown renders the comparison of cols (see mainCompare). The
// runs of files made before -framings are named by their codec and frame
// (runFraming).
func compareMarkdown(cols []compareCol) string {
	var keys []levelKey
	var framings []string
	for _, c := range cols {
		for _, r := range c.Res.Runs {
			r.Framing = runFraming(r)
			k := levelKey{r.Framing, r.Config, r.Sessions}
			if r.Purpose == purposeCapacity && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
			if !slices.Contains(framings, r.Framing) {
				framings = append(framings, r.Framing)
			}
		}
		c.Res.summarize(nil)
	}
	order := []string{kindGateOff, kindRelay, kindGateOn}
	slices.SortStableFunc(keys, func(a, b levelKey) int {
		if a.Framing != b.Framing {
			return slices.Index(framings, a.Framing) - slices.Index(framings, b.Framing)
		}
		if a.Config != b.Config {
			return slices.Index(order, a.Config) - slices.Index(order, b.Config)
		}
		return a.Sessions - b.Sessions
	})

	var b strings.Builder
	b.WriteString("| framing | config |")
	for _, c := range cols {
		fmt.Fprintf(&b, " %s: largest passing sessions | %s: CPU-ms / audio-s there |", c.Name, c.Name)
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---|---|", len(cols)) + "\n")
	for _, fr := range framings {
		for _, kind := range order {
			cells, found := "", false
			for _, c := range cols {
				i := slices.IndexFunc(c.Res.Summary, func(s summary) bool { return s.Framing == fr && s.Config == kind })
				if i < 0 {
					cells += " – | – |"
					continue
				}
				s := c.Res.Summary[i]
				note := ""
				if !s.FailedAbove {
					note = " (no failing level run)"
				}
				cells += fmt.Sprintf(" %d%s | %.3f |", s.Sessions, note, s.CPUPerAudioSec*1e3)
				found = true
			}
			if found {
				fmt.Fprintf(&b, "| %s | %s |%s\n", fr, kind, cells)
			}
		}
	}

	b.WriteString("\n| framing | config | sessions |")
	for _, c := range cols {
		fmt.Fprintf(&b, " %s: frame p99 ms | %s: result p99 ms | %s: CPU-ms / audio-s | %s: pass |", c.Name, c.Name, c.Name, c.Name)
	}
	two := len(cols) == 2
	if two {
		b.WriteString(" CPU after ÷ before |")
	}
	b.WriteString("\n|---|---|---|" + strings.Repeat("---|---|---|---|", len(cols)))
	if two {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "| %s | %s | %d |", k.Framing, k.Config, k.Sessions)
		var cpu []float64
		for _, c := range cols {
			r := pickRun(c.Res.Runs, k)
			if r == nil {
				b.WriteString(" – | – | – | – |")
				cpu = append(cpu, 0)
				continue
			}
			verdict := "yes"
			switch {
			case r.Spoiled:
				verdict = "not counted"
			case !r.Pass:
				verdict = "no: " + strings.Join(r.Why, "; ")
			}
			fmt.Fprintf(&b, " %s | %.2f | %.3f | %s |", r.frameP99(), r.ResultLatency.P99, r.CPUPerAudioSec*1e3, verdict)
			cpu = append(cpu, r.CPUPerAudioSec)
		}
		if two {
			if cpu[0] > 0 && cpu[1] > 0 {
				fmt.Fprintf(&b, " %.2f× |", cpu[1]/cpu[0])
			} else {
				b.WriteString(" – |")
			}
		}
		b.WriteString("\n")
	}
	for _, c := range cols {
		if slices.ContainsFunc(c.Res.Runs, func(r *Run) bool { return strings.HasSuffix(r.frameP99(), "*") }) {
			b.WriteString("\n\\* Frame p99 from the Results' arrival words (one sample per Results and session; see bench/capacity/arrival.go).\n")
			break
		}
	}
	return b.String()
}

// pickRun is the run of runs at k that counts (the last not spoiled), or
// the last spoiled one, or nil.
func pickRun(runs []*Run, k levelKey) *Run {
	var last *Run
	for _, r := range runs {
		if r.Purpose != purposeCapacity || r.Framing != k.Framing || r.Config != k.Config || r.Sessions != k.Sessions {
			continue
		}
		if !r.Spoiled || last == nil || last.Spoiled {
			last = r
		}
	}
	return last
}
