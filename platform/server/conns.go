package server

import (
	"net"
	"sync"
	"sync/atomic"

	"github.com/valyala/fasthttp"
)

// unstarted tracks connections that were accepted but have not sent a
// request yet. fasthttp's graceful shutdown closes idle keep-alive
// connections but waits for these until its read timeout; clients (Go's
// transport, browsers) routinely open such spare connections, so a drain
// would otherwise hang until the shutdown deadline. No request has been
// read from them, so closing them loses nothing acknowledged.
type unstarted struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	// n is len(conns): every request changes its connection's state twice,
	// and with no unstarted connection (the usual case under load) that
	// should not cost a lock.
	n atomic.Int32
}

func (u *unstarted) track(c net.Conn, st fasthttp.ConnState) {
	if st != fasthttp.StateNew && u.n.Load() == 0 {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if st == fasthttp.StateNew {
		if u.conns == nil {
			u.conns = map[net.Conn]struct{}{}
		}
		u.conns[c] = struct{}{}
	} else {
		delete(u.conns, c)
	}
	u.n.Store(int32(len(u.conns)))
}

func (u *unstarted) closeAll() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for c := range u.conns {
		_ = c.Close()
		delete(u.conns, c)
	}
	u.n.Store(0)
}
