package server

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/plinth-dev/plinth/internal/fasthdr"
	"github.com/plinth-dev/plinth/platform/apierror"
	"github.com/plinth-dev/plinth/platform/store"
	"github.com/plinth-dev/plinth/tenants/principal"
)

// reqState is what the middleware learns about a request. It is kept in
// one local because a request looks it up a dozen times, and fasthttp's
// user values are a list searched by comparing interface keys.
type reqState struct {
	id        string
	project   *store.Project
	principal *principal.Principal
}

type stateKey struct{}

func stateOf(c *fiber.Ctx) *reqState {
	st, _ := c.Locals(stateKey{}).(*reqState)
	if st == nil {
		st = &reqState{}
		c.Locals(stateKey{}, st)
	}
	return st
}

// requestID keeps a sane incoming X-Request-Id (so traces join up) or makes one.
func (s *Server) requestID(c *fiber.Ctx) error {
	id := string(c.Request().Header.Peek(fiber.HeaderXRequestID))
	if !validRequestID(id) {
		id = s.requestIDs.next()
	}
	stateOf(c).id = id
	fasthdr.Set(&c.Response().Header, fiber.HeaderXRequestID, id)
	return c.Next()
}

// requestIDs makes request ids without reading randomness per request:
// UUID-shaped (version 8, custom), a random prefix per server and a
// counter, so ids stay unique across instances.
type requestIDs struct {
	prefix [8]byte
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	r := &requestIDs{}
	_, _ = rand.Read(r.prefix[:])
	return r
}

func (r *requestIDs) next() string {
	var b uuid.UUID
	copy(b[:8], r.prefix[:])
	binary.BigEndian.PutUint64(b[8:], r.n.Add(1))
	b[6] = b[6]&0x0f | 0x80 // version 8
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant (the counter keeps 62 bits)
	return b.String()
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func routeClass(path string) string {
	switch {
	case strings.HasPrefix(path, "/p/"):
		rest := path[3:]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[i:]
		}
		switch {
		case strings.HasPrefix(rest, "/rest/"):
			return "rest"
		case strings.HasPrefix(rest, "/auth/"):
			return "auth"
		}
		return "project"
	case strings.HasPrefix(path, "/admin/"):
		return "admin"
	case strings.HasPrefix(path, "/dashboard"):
		return "dashboard"
	}
	return "ops"
}

// observe logs each request and records its metrics. The query string is
// never logged: filters can carry personal data and some clients put tokens
// there.
func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := s.app.ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(http.StatusInternalServerError)
		}
	}
	status := c.Response().StatusCode()
	class := routeClass(c.Path())
	d := time.Since(start)
	s.metrics.Request(class, status, d)
	if p := projectOf(c); p != nil && (class == "rest" || class == "auth") {
		s.usage.Record(p.Ref, status)
	}
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelError
	} else if class != "rest" && class != "ops" {
		level = slog.LevelInfo
	}
	// Checked first: building the record's attributes allocates, and data
	// requests log at debug level, which production runs without.
	if ctx := c.UserContext(); s.log.Enabled(ctx, level) {
		s.log.Log(ctx, level, "request", "id", stateOf(c).id, "method", c.Method(),
			"path", c.Path(), "status", status, "ms", float64(d.Microseconds())/1000)
	}
	return nil
}

// errorHandler is the single place errors become responses.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	anonymous := true
	if p := principalOf(c); p != nil {
		anonymous = p.Anonymous()
	}
	var fe *fiber.Error
	var ae *apierror.Error
	if errors.As(err, &fe) {
		ae = fromFiber(fe)
	} else {
		ae = apierror.From(err, anonymous)
	}
	if ae.Status >= 500 {
		s.log.Error("request failed", "id", stateOf(c).id, "path", c.Path(), "code", ae.Code, "err", err)
	}
	c.Status(ae.Status)
	if ae.Status == http.StatusServiceUnavailable {
		c.Set(fiber.HeaderRetryAfter, "1")
	}
	if routeClass(c.Path()) == "auth" {
		// The auth API answers in GoTrue's error shape, which auth-js reads.
		return c.JSON(ae.GoTrue())
	}
	return c.JSON(ae)
}

func fromFiber(fe *fiber.Error) *apierror.Error {
	switch fe.Code {
	case http.StatusNotFound:
		return apierror.New(http.StatusNotFound, apierror.CodeNotFound, "Not found")
	case http.StatusMethodNotAllowed:
		return apierror.New(http.StatusMethodNotAllowed, "PGRST117", "Method not allowed")
	case http.StatusRequestEntityTooLarge:
		return apierror.New(http.StatusRequestEntityTooLarge, apierror.CodeTooLarge, "Request body too large")
	case http.StatusRequestHeaderFieldsTooLarge:
		return apierror.New(http.StatusRequestHeaderFieldsTooLarge, apierror.CodeHeaderTooLarge, "Request headers too large")
	case http.StatusRequestTimeout:
		return apierror.New(http.StatusRequestTimeout, apierror.CodeBadRequest, "Request timeout")
	}
	if fe.Code >= 400 && fe.Code < 500 {
		return apierror.New(fe.Code, apierror.CodeBadRequest, fe.Message)
	}
	return apierror.Internal(fe)
}
