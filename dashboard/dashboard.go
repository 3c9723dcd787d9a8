// Package dashboard serves the admin single-page app at /dashboard/. The
// built assets (dist/, made by `make dashboard`) are committed and embedded,
// so `go build` alone gives a binary with the dashboard and nothing is
// fetched at run time. The app talks only to the admin API.
package dashboard

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

//go:embed all:dist
var dist embed.FS

// Security headers of every dashboard response. The app has no inline
// script or style and calls only its own origin, so the CSP can be strict.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
	"X-Frame-Options":              "DENY",
	"X-Content-Type-Options":       "nosniff",
	"Referrer-Policy":              "no-referrer",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
	"Permissions-Policy":           "camera=(), microphone=(), geolocation=(), payment=()",
}

type asset struct {
	body, gz []byte
	ctype    string
	etag     string
}

// Handler serves the embedded app.
type Handler struct {
	prefix string
	files  map[string]*asset
}

// New loads the embedded assets (and gzips the compressible ones once) for
// serving under prefix, e.g. "/dashboard".
func New(prefix string) (*Handler, error) {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, err
	}
	h := &Handler{prefix: strings.TrimSuffix(prefix, "/"), files: map[string]*asset{}}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a := &asset{body: b, ctype: mime.TypeByExtension(path.Ext(p)), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		if a.ctype == "" {
			a.ctype = "application/octet-stream"
		}
		if compressible(a.ctype) && len(b) > 256 {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			_, _ = zw.Write(b)
			if err := zw.Close(); err != nil {
				return err
			}
			if buf.Len() < len(b) {
				a.gz = buf.Bytes()
			}
		}
		h.files[p] = a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dashboard assets: %w", err)
	}
	if h.files["index.html"] == nil {
		return nil, fmt.Errorf("dashboard assets: dist/index.html is missing (run `make dashboard`)")
	}
	return h, nil
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") ||
		strings.Contains(ctype, "json") || strings.Contains(ctype, "svg")
}

// Register mounts the app: prefix redirects to prefix/, known files are
// served as they are, and any other path gets index.html so the app's own
// router can show it (deep links, reloads).
func (h *Handler) Register(app fiber.Router) {
	app.Get(h.prefix+"/*", h.serve)
	app.Head(h.prefix+"/*", h.serve)
}

func (h *Handler) serve(c *fiber.Ctx) error {
	if c.Path() == h.prefix {
		// Relative asset URLs and the client router need the trailing slash.
		return c.Redirect(h.prefix+"/", http.StatusMovedPermanently)
	}
	for k, v := range securityHeaders {
		c.Set(k, v)
	}
	name := strings.TrimPrefix(c.Params("*"), "/")
	a, ok := h.files[name]
	switch {
	case ok && name != "index.html" && strings.HasPrefix(name, "assets/"):
		// Vite puts a content hash in every name under assets/.
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	case ok && name != "index.html":
		c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	case !ok && (strings.HasPrefix(name, "assets/") || path.Ext(name) != ""):
		// A missing file is a 404, not the app: a stale hashed name must
		// not be answered with HTML the browser would refuse as script.
		return c.Status(http.StatusNotFound).SendString("not found")
	default:
		a = h.files["index.html"]
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	c.Set(fiber.HeaderETag, a.etag)
	c.Set(fiber.HeaderContentType, a.ctype)
	c.Append(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	if c.Get(fiber.HeaderIfNoneMatch) == a.etag {
		return c.SendStatus(http.StatusNotModified)
	}
	if a.gz != nil && acceptsGzip(c.Get(fiber.HeaderAcceptEncoding)) {
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Send(a.gz)
	}
	return c.Send(a.body)
}

// acceptsGzip reads Accept-Encoding: gzip (or *) with a q-value above 0.
func acceptsGzip(ae string) bool {
	for _, part := range strings.Split(ae, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		enc = strings.TrimSpace(enc)
		if !strings.EqualFold(enc, "gzip") && enc != "*" {
			continue
		}
		qs, ok := strings.CutPrefix(strings.TrimSpace(params), "q=")
		if !ok {
			return true
		}
		q, err := strconv.ParseFloat(qs, 64)
		return err == nil && q > 0
	}
	return false
}
