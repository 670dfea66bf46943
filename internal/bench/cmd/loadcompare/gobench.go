package main

import (
	"regexp"
	"strconv"
	"strings"
)

// benchLine is one line of `go test -bench` output.
type benchLine struct {
	Pkg, Name string // Name without the -GOMAXPROCS suffix
	Metrics   map[string]float64
}

var procSuffix = regexp.MustCompile(`-\d+$`)

// parseGoBench reads the benchmark lines of `go test -bench -benchmem`, in
// order: to check the required benchmarks ran and to pair rounds; the
// summary is benchstat's.
func parseGoBench(out string) []benchLine {
	var lines []benchLine
	pkg := ""
	for line := range strings.Lines(out) {
		line = strings.TrimRight(line, "\n")
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
			continue
		}
		bl := benchLine{Pkg: pkg, Name: procSuffix.ReplaceAllString(f[0], ""), Metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			bl.Metrics[f[i+1]] = v
		}
		if _, ok := bl.Metrics["ns/op"]; ok {
			lines = append(lines, bl)
		}
	}
	return lines
}

// pairedRatios divides the k-th run of num by the k-th run of den (ns/op),
// for every k both have: with `go test -count N` each count runs both
// benchmarks one after the other, so the k-th runs are a paired round.
func pairedRatios(lines []benchLine, num, den string) (ratios, nums, dens []float64) {
	for _, l := range lines {
		switch l.Name {
		case num:
			nums = append(nums, l.Metrics["ns/op"])
		case den:
			dens = append(dens, l.Metrics["ns/op"])
		}
	}
	for k := range min(len(nums), len(dens)) {
		if dens[k] > 0 {
			ratios = append(ratios, nums[k]/dens[k])
		}
	}
	return ratios, nums, dens
}
