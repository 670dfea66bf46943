package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what the comparison reads from one wrk run.
type wrkResult struct {
	Requests     int64
	RPS          float64
	P50, P99     time.Duration
	Non2xx       int64
	SocketErrors string // wrk's "Socket errors:" line, "" when it printed none
}

// wrkArgs is the command line of one wrk run: the load generator pinned to
// core 1, one thread, 16 connections, latency percentiles on.
func wrkArgs(core int, conns int, d time.Duration, token, url string) []string {
	return []string{
		"taskset", "-c", strconv.Itoa(core),
		"wrk", "-t1", "-c" + strconv.Itoa(conns), "-d" + wrkDuration(d), "--latency",
		"-H", "Authorization: Bearer " + token,
		url,
	}
}

// wrkDuration writes d as wrk reads it (whole seconds, at least 1).
func wrkDuration(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.Itoa(s) + "s"
}

// runWrk runs wrk once and parses what it prints; it fails when wrk fails,
// prints no result, or any answer was not 2xx (so a misconfigured run never
// shows up as a fast one).
func runWrk(ctx context.Context, sup *supervisor, args []string, d time.Duration) (wrkResult, error) {
	var out bytes.Buffer
	c, err := sup.start(ctx, time.Second, args, &out, nil)
	if err != nil {
		return wrkResult{}, fmt.Errorf("start wrk: %w", err)
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		sup.stop(c)
		return wrkResult{}, ctx.Err()
	case <-time.After(d + 30*time.Second):
		sup.stop(c)
		return wrkResult{}, fmt.Errorf("wrk did not finish within %s", d+30*time.Second)
	}
	sup.stop(c)
	if c.err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w\n%s", c.err, out.String())
	}
	res, err := parseWrk(out.String())
	if err != nil {
		return res, err
	}
	if res.Non2xx > 0 {
		return res, fmt.Errorf("wrk: %d of %d answers were not 2xx\n%s", res.Non2xx, res.Requests, out.String())
	}
	if res.Requests == 0 {
		return res, fmt.Errorf("wrk: no requests completed\n%s", out.String())
	}
	return res, nil
}

// parseWrk reads wrk 4's report (with --latency).
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	var haveRPS, have50, have99 bool
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return r, fmt.Errorf("wrk: requests/sec %q: %w", f[1], err)
			}
			r.RPS, haveRPS = v, true
		case len(f) == 2 && (f[0] == "50%" || f[0] == "99%"):
			d, err := parseWrkDuration(f[1])
			if err != nil {
				return r, err
			}
			if f[0] == "50%" {
				r.P50, have50 = d, true
			} else {
				r.P99, have99 = d, true
			}
		case len(f) >= 5 && f[1] == "requests" && f[2] == "in":
			v, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return r, fmt.Errorf("wrk: request count %q: %w", f[0], err)
			}
			r.Requests = v
		case strings.HasPrefix(strings.TrimSpace(line), "Non-2xx or 3xx responses:"):
			v, err := strconv.ParseInt(f[len(f)-1], 10, 64)
			if err != nil {
				return r, fmt.Errorf("wrk: non-2xx count %q: %w", f[len(f)-1], err)
			}
			r.Non2xx = v
		case strings.HasPrefix(strings.TrimSpace(line), "Socket errors:"):
			r.SocketErrors = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "Socket errors:"))
		}
	}
	if !haveRPS || !have50 || !have99 {
		return r, fmt.Errorf("wrk: no Requests/sec or latency percentiles in its output:\n%s", out)
	}
	return r, nil
}

// parseWrkDuration reads wrk's latencies: "512.34us", "1.20ms", "2.00s", "1.00m".
func parseWrkDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("wrk: latency %q: %w", s, err)
			}
			return time.Duration(v * float64(u.unit)), nil
		}
	}
	return 0, fmt.Errorf("wrk: latency %q has no known unit", s)
}
