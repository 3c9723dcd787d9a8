// Package notify runs the one LISTEN connection of an instance and hands each
// notification to the caches that registered for its channel. After a
// reconnect every cache is purged, since notifications sent while the
// connection was down are lost.
package notify

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Handler reacts to one channel: OnNotify gets the payload (a project ref);
// OnReset drops everything each time the LISTENs are (re)established:
// notifications sent before were not heard.
type Handler struct {
	OnNotify func(payload string)
	OnReset  func()
}

// Listener dispatches notifications to handlers.
type Listener struct {
	url      string
	log      *slog.Logger
	mu       sync.Mutex
	handlers map[string][]Handler
	ready    chan struct{}
	once     sync.Once
}

// New makes a listener on url (the control-plane URL).
func New(url string, log *slog.Logger) *Listener {
	return &Listener{url: url, log: log, handlers: map[string][]Handler{}, ready: make(chan struct{})}
}

// Handle registers h for channel. Call before Run.
func (l *Listener) Handle(channel string, h Handler) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.handlers[channel] = append(l.handlers[channel], h)
}

// Ready is closed once the first LISTEN is in place.
func (l *Listener) Ready() <-chan struct{} { return l.ready }

// Run listens until ctx ends, reconnecting with backoff.
func (l *Listener) Run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		connected, err := l.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if connected {
			// A working session ended: retry quickly again, or every later
			// outage would keep the longest wait of the first one.
			backoff = 100 * time.Millisecond
		}
		l.log.Warn("notification listener disconnected; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// session connects, listens and dispatches until the connection fails;
// connected says whether its LISTENs were in place.
func (l *Listener) session(ctx context.Context) (connected bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	conn, err := pgx.Connect(cctx, l.url)
	cancel()
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	l.mu.Lock()
	channels := make([]string, 0, len(l.handlers))
	for ch := range l.handlers {
		channels = append(channels, ch)
	}
	l.mu.Unlock()
	for _, ch := range channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return false, err
		}
	}
	// Whatever was cached before these LISTENs were in place, at start as
	// after a reconnect, may have missed a notification: drop it.
	l.resetAll()
	l.once.Do(func() { close(l.ready) })
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		l.mu.Lock()
		hs := l.handlers[n.Channel]
		l.mu.Unlock()
		for _, h := range hs {
			if h.OnNotify != nil {
				h.OnNotify(n.Payload)
			}
		}
	}
}

func (l *Listener) resetAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, hs := range l.handlers {
		for _, h := range hs {
			if h.OnReset != nil {
				h.OnReset()
			}
		}
	}
}
