package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// cpuTimes is the machine's cumulative CPU time from /proc/stat, in clock
// ticks: busy (every state but idle and iowait) and total. Everything on the
// machine counts (Postgres, Redis, the load generator, the kernel), so busy
// time per request is a target's whole cost, not only its own process's.
// self is this process's share (the load generator, the floors and the
// in-process Plinth server), so the rest is Postgres, Redis and the kernel
// outside our syscalls.
type cpuTimes struct{ busy, total, self uint64 }

func readCPU() (cpuTimes, bool) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return cpuTimes{}, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return cpuTimes{}, false
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 6 || fields[0] != "cpu" {
		return cpuTimes{}, false
	}
	var t cpuTimes
	for i, f := range fields[1:] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return cpuTimes{}, false
		}
		// user nice system idle iowait irq softirq steal ...; guest time is
		// already counted in user.
		if i >= 8 {
			break
		}
		t.total += v
		if i != 3 && i != 4 {
			t.busy += v
		}
	}
	self, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return cpuTimes{}, false
	}
	// Fields after the parenthesised command name: utime and stime are the
	// 12th and 13th.
	rest := strings.Fields(string(self[strings.LastIndexByte(string(self), ')')+1:]))
	if len(rest) < 13 {
		return cpuTimes{}, false
	}
	for _, f := range rest[11:13] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return cpuTimes{}, false
		}
		t.self += v
	}
	return t, true
}

func (t cpuTimes) sub(o cpuTimes) cpuTimes {
	return cpuTimes{t.busy - o.busy, t.total - o.total, t.self - o.self}
}

// busyShare is the share of all cores busy over t (0 for no time).
func (t cpuTimes) busyShare() float64 {
	if t.total == 0 {
		return 0
	}
	return float64(t.busy) / float64(t.total)
}

// clockTick is USER_HZ, 100 on every Linux the tool runs on.
const clockTick = 100
