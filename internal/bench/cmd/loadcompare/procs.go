package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// supervisor starts child processes in their own process groups and ends
// every one it started, on a normal return as on Ctrl-C, so no server or
// load generator outlives a run. Each child is an exec.Cmd whose context
// is the run's: its Cancel sends SIGTERM to the child's process group and
// its WaitDelay bounds how long Wait then waits before it kills the child
// (and stops copying its output).
type supervisor struct {
	mu      sync.Mutex
	running map[int]*child // by pid, which is also the process group id
}

// child is one started process; done is closed once it has exited and err
// holds what Wait returned.
type child struct {
	cmd    *exec.Cmd
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

func newSupervisor() *supervisor { return &supervisor{running: map[int]*child{}} }

// start runs argv in its own process group, its output going to out (nil:
// discarded), env added to the environment. Cancelling ctx, or stop, sends
// the group SIGTERM; grace later the child is killed.
func (s *supervisor) start(ctx context.Context, grace time.Duration, argv []string, out io.Writer, env []string) (*child, error) {
	cctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(cctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = grace
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	c := &child{cmd: cmd, cancel: cancel, done: make(chan struct{})}
	go func() { c.err = cmd.Wait(); close(c.done) }()
	s.mu.Lock()
	s.running[cmd.Process.Pid] = c
	s.mu.Unlock()
	return c, nil
}

// pid is the child's process id.
func (c *child) pid() int { return c.cmd.Process.Pid }

// stop ends c through its Cancel (SIGTERM to the group, a kill after the
// WaitDelay), waits for it, and kills whatever it left in its group.
func (s *supervisor) stop(c *child) {
	s.mu.Lock()
	delete(s.running, c.pid())
	s.mu.Unlock()
	c.cancel()
	<-c.done
	_ = syscall.Kill(-c.pid(), syscall.SIGKILL)
}

// stopAll ends every process still running.
func (s *supervisor) stopAll() {
	s.mu.Lock()
	cs := make([]*child, 0, len(s.running))
	for _, c := range s.running {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		s.stop(c)
	}
}

// freePort returns a loopback TCP port that was free a moment ago. The
// servers are given a fixed port (not :0) so readiness can be polled from
// the instant the process starts.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls url every interval until it answers 200, the process
// exits, or limit passes; it returns the time from started to that 200.
//
// When ok is not nil the 200's body (its first 4 KiB) must also satisfy it,
// so a poll can wait for the integration count /healthz reports.
func waitReady(ctx context.Context, url string, header http.Header, ok func(body []byte) bool, started time.Time, exited <-chan struct{}, interval, limit time.Duration) (time.Duration, error) {
	client := &http.Client{Timeout: time.Second}
	deadline := started.Add(limit)
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := client.Do(req)
		if err == nil {
			at := time.Since(started)
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && (ok == nil || ok(body)) {
				return at, nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-exited:
			return 0, errors.New("the process exited before it was ready")
		case <-time.After(interval):
		}
	}
	return 0, fmt.Errorf("%s not ready within %s", url, limit)
}

// procStatusKB reads a "Vm..." field of /proc/PID/status, in KiB.
func procStatusKB(pid int, field string) (int64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	return parseStatusKB(string(b), field)
}

// parseStatusKB finds "field:   123 kB" in the text of /proc/PID/status.
func parseStatusKB(status, field string) (int64, error) {
	for line := range strings.Lines(status) {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || name != field {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("/proc status: odd %s line %q", field, line)
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, fmt.Errorf("/proc status: no %s", field)
}

// treeStatusKB sums field over pid and all its descendants (Prism may run
// more than one process).
func treeStatusKB(pid int, field string) (int64, error) {
	total, err := procStatusKB(pid, field)
	if err != nil {
		return 0, err
	}
	for _, child := range descendants(pid) {
		if kb, err := procStatusKB(child, field); err == nil {
			total += kb
		}
	}
	return total, nil
}

// descendants lists the pids whose ancestry leads to pid.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	parent := map[int]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name may hold spaces; ppid is the second field after ")".
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		if pp, err := strconv.Atoi(f[1]); err == nil {
			parent[p] = pp
		}
	}
	var out []int
	for p := range parent {
		for q, hops := parent[p], 0; q != 0 && hops < 64; q, hops = parent[q], hops+1 {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// userHZ is the unit of utime and stime in /proc/PID/stat (USER_HZ, 100 on
// every Linux architecture the comparison runs on).
const userHZ = 100

// cpuTime returns the CPU time (user + system) pid has used so far, all its
// threads included.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime (fields 14 and 15) from the text of
// /proc/PID/stat.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("/proc stat: no command name")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state), so utime (14) is f[11] and stime (15) f[12].
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc stat: %d fields", len(f)+2)
	}
	var ticks int64
	for _, s := range f[11:13] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc stat: %w", err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}
