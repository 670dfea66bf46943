package main

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// benchLine is one line of `go test -bench` output.
type benchLine struct {
	Pkg, Name string // Name without the -GOMAXPROCS suffix
	Metrics   map[string]float64
}

// benchSummary is the median of every metric of one benchmark over -count runs.
type benchSummary struct {
	Pkg, Name string
	N         int // list size read from the sub-benchmark name, 0 when none
	Runs      int
	NsPerOp   float64
	BPerOp    float64
	Allocs    float64
}

// UsPerItem is the time per integration in microseconds, 0 without a size.
func (s benchSummary) UsPerItem() float64 {
	if s.N <= 0 {
		return 0
	}
	return s.NsPerOp / float64(s.N) / 1e3
}

var (
	procSuffix = regexp.MustCompile(`-\d+$`)
	digits     = regexp.MustCompile(`\d[\d_,]*`)
)

// parseGoBench reads the benchmark lines of `go test -bench -benchmem`.
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

// summarize groups lines by benchmark, in first-seen order, and takes the
// median of each metric.
func summarize(lines []benchLine) []benchSummary {
	type key struct{ pkg, name string }
	var order []key
	groups := map[key][]benchLine{}
	for _, l := range lines {
		k := key{l.Pkg, l.Name}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], l)
	}
	out := make([]benchSummary, 0, len(order))
	for _, k := range order {
		g := groups[k]
		out = append(out, benchSummary{
			Pkg: k.pkg, Name: k.name, N: sizeOf(k.name), Runs: len(g),
			NsPerOp: median(g, "ns/op"), BPerOp: median(g, "B/op"), Allocs: median(g, "allocs/op"),
		})
	}
	return out
}

// sizeOf reads the list size from a sub-benchmark name such as
// "BenchmarkHandler/n=1000" or "BenchmarkDecodeList/10_000": the last number
// after the first slash.
func sizeOf(name string) int {
	_, sub, ok := strings.Cut(name, "/")
	if !ok {
		return 0
	}
	m := digits.FindAllString(sub, -1)
	if len(m) == 0 {
		return 0
	}
	n, err := strconv.Atoi(strings.NewReplacer("_", "", ",", "").Replace(m[len(m)-1]))
	if err != nil {
		return 0
	}
	return n
}

func median(g []benchLine, metric string) float64 {
	vs := make([]float64, 0, len(g))
	for _, l := range g {
		if v, ok := l.Metrics[metric]; ok {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return 0
	}
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

// validationCost is the per-integration cost of response validation read off
// the benchmarks whose name holds "Validate": the time per integration at the
// largest size, and the marginal cost between the smallest and the largest
// size (equal when the cost is linear in the list's length).
type validationCost struct {
	Bench               string
	AtLargest, Marginal float64 // microseconds per integration
	Small, Large        int
}

// validationCosts computes a validationCost for each validation benchmark
// family that has at least two sizes.
func validationCosts(sums []benchSummary) []validationCost {
	fam := map[string][]benchSummary{}
	var order []string
	for _, s := range sums {
		if s.N <= 0 || !strings.Contains(s.Name, "Validate") {
			continue
		}
		base, _, _ := strings.Cut(s.Name, "/")
		base = shortPkg(s.Pkg) + "." + base
		if _, ok := fam[base]; !ok {
			order = append(order, base)
		}
		fam[base] = append(fam[base], s)
	}
	var out []validationCost
	for _, base := range order {
		f := fam[base]
		lo := slices.MinFunc(f, func(a, b benchSummary) int { return a.N - b.N })
		hi := slices.MaxFunc(f, func(a, b benchSummary) int { return a.N - b.N })
		if lo.N == hi.N {
			continue
		}
		out = append(out, validationCost{
			Bench:     base,
			AtLargest: hi.UsPerItem(),
			Marginal:  (hi.NsPerOp - lo.NsPerOp) / float64(hi.N-lo.N) / 1e3,
			Small:     lo.N, Large: hi.N,
		})
	}
	return out
}

// shortPkg turns an import path into the part after the module path.
func shortPkg(pkg string) string {
	const module = "github.com/torqapi/integrations/"
	if p, ok := strings.CutPrefix(pkg, module); ok {
		return p
	}
	return pkg
}

// benchTable renders summaries as a markdown table.
func benchTable(sums []benchSummary) string {
	var b strings.Builder
	b.WriteString("| package | benchmark | n | time/op | µs/integration | B/op | allocs/op |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|\n")
	for _, s := range sums {
		per := "-"
		switch u := s.UsPerItem(); {
		case s.N <= 0:
		case u < 0.1:
			per = fmt.Sprintf("%.4f", u)
		default:
			per = fmt.Sprintf("%.2f", u)
		}
		n := "-"
		if s.N > 0 {
			n = strconv.Itoa(s.N)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %.0f |\n",
			shortPkg(s.Pkg), s.Name, n, fmtNs(s.NsPerOp), per, fmtBytes(s.BPerOp), s.Allocs)
	}
	return b.String()
}

// fmtNs writes a time per operation with a readable unit.
func fmtNs(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	default:
		return fmt.Sprintf("%.0f ns", ns)
	}
}

// fmtBytes writes a byte count with a binary unit.
func fmtBytes(b float64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	default:
		return fmt.Sprintf("%.0f B", b)
	}
}
