// Command plinth is the Plinth server and its tools: serve, dev, migrate,
// admin and version.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/plinth-dev/plinth/platform/config"
	"github.com/plinth-dev/plinth/platform/password"
	"github.com/plinth-dev/plinth/platform/server"
	"github.com/plinth-dev/plinth/platform/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `plinth — a multi-tenant backend-as-a-service in one binary.

Usage:
  plinth serve [flags]                     run the production server (applies platform migrations at start)
  plinth dev [flags]                       run a development server with a private Postgres in ./.plinth
  plinth migrate up|status [flags]         apply or list platform migrations
  plinth admin create EMAIL [flags]        create a platform admin (password from PLINTH_ADMIN_PASSWORD or stdin)
  plinth admin reset-password EMAIL        set a new password (from PLINTH_ADMIN_PASSWORD or stdin)
  plinth healthcheck [--ready]             exit 0 if the server on PLINTH_LISTEN answers /healthz (/readyz)
  plinth gen go|ts --project REF [flags]   typed SDK code of a project from a running server (--url, --out, --token)
  plinth version                           print the version

Run "plinth COMMAND --help" for the flags of a command. Every flag has an
environment variable of the same name (--database-url = PLINTH_DATABASE_URL);
a flag given on the command line wins.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], stderr)
	case "dev":
		err = cmdDev(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = cmdMigrate(ctx, args[1:], stdout, stderr)
	case "admin":
		err = cmdAdmin(ctx, args[1:], stdin, stdout, stderr)
	case "healthcheck":
		err = cmdHealthcheck(ctx, args[1:], stdout, stderr)
	case "gen":
		err = cmdGen(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "plinth", version)
	default:
		fmt.Fprintf(stderr, "plinth: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "plinth:", err)
		return 1
	}
	return 0
}

// loadConfig parses flags for every setting of DESIGN.md §2 and merges env.
func loadConfig(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (config.Config, []string, error) {
	fs := flag.NewFlagSet("plinth "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	flags := config.RegisterFlags(fs)
	if extra != nil {
		extra(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: plinth %s [flags]\n\nFlags (each also read from its environment variable):\n", name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return config.Config{}, nil, err
	}
	cfg, err := config.Load(os.Getenv, flags)
	return cfg, fs.Args(), err
}

func newLogger(format string, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, _, err := loadConfig("serve", args, stderr, nil)
	if err != nil {
		return err
	}
	if cfg.LogFormat == "" {
		cfg.LogFormat = "json"
	}
	log := newLogger(cfg.LogFormat, stderr)
	if cfg.SecretKey == "" {
		return errors.New("PLINTH_SECRET_KEY is required for serve (at least 16 characters)")
	}
	return serve(ctx, cfg, log, nil)
}

// serve runs the server until ctx ends; ready (optional) runs once it listens.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, ready func(*server.Server) error) error {
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	if cfg.RedisURL == "" {
		log.Warn("PLINTH_REDIS_URL is not set: rate limits are counted in this process only (single instance)")
	}
	log.Info("plinth listening", "addr", ln.Addr().String(), "version", version)
	if ready != nil {
		if err := ready(srv); err != nil {
			ln.Close()
			return err
		}
	}
	return srv.Run(ctx, ln)
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, rest, err := loadConfig("migrate", args, stderr, nil)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return errors.New("PLINTH_DATABASE_URL is required")
	}
	if len(rest) != 1 {
		return errors.New("usage: plinth migrate up|status")
	}
	switch rest[0] {
	case "up":
		return store.Migrate(ctx, cfg.DatabaseURL, newLogger("text", stderr))
	case "status":
		st, err := store.MigrationStatus(ctx, cfg.DatabaseURL)
		if err != nil {
			return err
		}
		for _, m := range st {
			applied := "pending"
			if !m.AppliedAt.IsZero() {
				applied = "applied " + m.AppliedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%5d  %-30s  %s\n", m.Source.Version, m.Source.Path, applied)
		}
		return nil
	}
	return fmt.Errorf("unknown migrate command %q (want up or status)", rest[0])
}

func cmdAdmin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "reset-password") {
		return errors.New("usage: plinth admin create|reset-password EMAIL")
	}
	sub := args[0]
	var platform bool
	cfg, rest, err := loadConfig("admin "+sub, args[1:], stderr, func(fs *flag.FlagSet) {
		if sub == "create" {
			fs.BoolVar(&platform, "platform", true, "make the account a platform admin (false: a member-only account)")
		}
	})
	if err != nil {
		return err
	}
	if len(rest) != 1 || !strings.Contains(rest[0], "@") {
		return fmt.Errorf("usage: plinth admin %s EMAIL", sub)
	}
	if cfg.DatabaseURL == "" {
		return errors.New("PLINTH_DATABASE_URL is required")
	}
	pw := cfg.AdminPassword
	if pw == "" {
		fmt.Fprint(stderr, "Password: ")
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return errors.New("no password given (set PLINTH_ADMIN_PASSWORD or type it on stdin)")
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if len(pw) < 8 {
		return errors.New("password must be at least 8 characters")
	}
	hash, err := password.Hash(pw, password.Default)
	if err != nil {
		return err
	}
	if err := store.Migrate(ctx, cfg.DatabaseURL, nil); err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	email := store.NormalizeEmail(rest[0])
	if sub == "create" {
		if _, err := st.CreateAdmin(ctx, email, hash, platform); errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("admin %s already exists (use reset-password)", email)
		} else if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "created admin", email)
		return nil
	}
	if err := st.SetAdminPassword(ctx, email, hash); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no admin %s", email)
	} else if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "password reset for", email)
	return nil
}
