package server

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

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

// lingeringListener closes connections gracefully. The server answers some
// requests before reading all of them (431 for oversized headers, 413 for an
// oversized declared body) and then closes; closing a socket with unread
// bytes makes the kernel send a reset, which can reach the client before the
// answer and destroy it, so the client sees "connection reset" instead of
// the error. As net/http does, a close first only ends the server's side
// (FIN after the answer) and reads what the client is still sending for a
// short while; the socket closes when the client does, or after that.
//
// Only the serving goroutine's own close lingers. A close from elsewhere
// while that goroutine waits in Read (shutdown closing idle keep-alive
// connections) closes at once, as it must to wake the reader. After a close
// the socket belongs to the drain: the server's reads see EOF, its writes
// fail and its deadline changes do nothing (fasthttp panics on a deadline
// error, which a socket the drain has closed would give).
type lingeringListener struct{ net.Listener }

const (
	lingerTimeout = 500 * time.Millisecond
	lingerBytes   = 1 << 20
)

func (l lingeringListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok && err == nil {
		return &lingeringConn{TCPConn: tc}, nil
	}
	return c, err
}

type lingeringConn struct {
	*net.TCPConn
	closed  atomic.Bool
	reading atomic.Int32
}

func (c *lingeringConn) Read(b []byte) (int, error) {
	// reading is raised before closed is checked, and Close sets closed
	// before it checks reading: either this read sees the close, or the
	// close sees this read and wakes it by closing the socket.
	c.reading.Add(1)
	defer c.reading.Add(-1)
	if c.closed.Load() {
		return 0, io.EOF
	}
	return c.TCPConn.Read(b)
}

func (c *lingeringConn) Write(b []byte) (int, error) {
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	return c.TCPConn.Write(b)
}

func (c *lingeringConn) SetDeadline(t time.Time) error {
	if c.closed.Load() {
		return nil
	}
	return c.TCPConn.SetDeadline(t)
}

func (c *lingeringConn) SetReadDeadline(t time.Time) error {
	if c.closed.Load() {
		return nil
	}
	return c.TCPConn.SetReadDeadline(t)
}

func (c *lingeringConn) SetWriteDeadline(t time.Time) error {
	if c.closed.Load() {
		return nil
	}
	return c.TCPConn.SetWriteDeadline(t)
}

func (c *lingeringConn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	if c.reading.Load() > 0 {
		return c.TCPConn.Close()
	}
	if err := c.CloseWrite(); err != nil {
		return c.TCPConn.Close()
	}
	// Off the server's goroutine: a client that keeps the socket open
	// must not hold up the worker that served it.
	go func() {
		_ = c.TCPConn.SetReadDeadline(time.Now().Add(lingerTimeout))
		_, _ = io.CopyN(io.Discard, c.TCPConn, lingerBytes)
		_ = c.TCPConn.Close()
	}()
	return nil
}
