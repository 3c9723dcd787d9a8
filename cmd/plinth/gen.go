package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	plinth "github.com/plinth-dev/plinth/sdk/go"
	"github.com/plinth-dev/plinth/tenants/typegen"
)

// cmdGen fetches generated SDK code for a project from a running server's
// admin API (DESIGN.md §8): plinth gen go|ts --url URL --project REF.
func cmdGen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plinth gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := os.Getenv("PLINTH_LISTEN")
	if listen == "" {
		listen = "127.0.0.1:8080"
	}
	url := fs.String("url", "http://"+listen, "base URL of the Plinth server")
	ref := fs.String("project", "", "project ref (required)")
	out := fs.String("out", "", "write to this file instead of stdout")
	token := fs.String("token", os.Getenv("PLINTH_ADMIN_TOKEN"), "admin token (default $PLINTH_ADMIN_TOKEN)")
	pkg := fs.String("package", "", "Go package name (default: the --out directory's name if it is one, else db)")
	timeout := fs.Duration("timeout", 30*time.Second, "request timeout")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: plinth gen go|ts --url URL --project REF [--out FILE] [--token T] [--package NAME]\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var lang string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		lang, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if lang == "" && fs.NArg() > 0 {
		lang = fs.Arg(0)
	}
	switch lang {
	case "ts", "typescript":
		lang = "ts"
	case "go":
	default:
		fs.Usage()
		return fmt.Errorf("gen: want go or ts, not %q", lang)
	}
	if *ref == "" {
		return errors.New("gen: --project is required")
	}
	if *token == "" {
		return errors.New("gen: an admin token is required (PLINTH_ADMIN_TOKEN or --token)")
	}
	if lang == "go" && *pkg == "" {
		*pkg = typegen.DefaultGoPackage
		if *out != "" {
			if dir := filepath.Base(filepath.Dir(mustAbs(*out))); typegen.ValidPackage(dir) {
				*pkg = dir
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	admin := plinth.NewAdmin(*url, *token)
	var src string
	var err error
	if lang == "go" {
		src, err = admin.TypesGo(ctx, *ref, *pkg)
	} else {
		src, err = admin.TypesTypeScript(ctx, *ref)
	}
	if err != nil {
		return fmt.Errorf("gen %s: %w", lang, err)
	}
	if *out == "" {
		_, err = io.WriteString(stdout, src)
		return err
	}
	// Write beside the target and rename, so a failed run never leaves a
	// half-written file that breaks the build.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".plinth-gen-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(src); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), *out)
}

func mustAbs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
