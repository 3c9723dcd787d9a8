// Package server assembles the Fiber app: middleware order, the admin API,
// each project's data API, health and metrics endpoints, and graceful
// shutdown.
package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/jackc/pgx/v5"
	"github.com/plinth-dev/plinth/tenants/principal"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/plinth-dev/plinth/platform/adminapi"
	"github.com/plinth-dev/plinth/platform/authz"
	"github.com/plinth-dev/plinth/platform/config"
	"github.com/plinth-dev/plinth/platform/metrics"
	"github.com/plinth-dev/plinth/platform/notify"
	"github.com/plinth-dev/plinth/platform/password"
	"github.com/plinth-dev/plinth/platform/ratelimit"
	"github.com/plinth-dev/plinth/platform/registry"
	"github.com/plinth-dev/plinth/platform/seal"
	"github.com/plinth-dev/plinth/platform/store"
	"github.com/plinth-dev/plinth/platform/usage"
	"github.com/plinth-dev/plinth/tenants/auth"
	"github.com/plinth-dev/plinth/tenants/pool"
	"github.com/plinth-dev/plinth/tenants/provision"
	"github.com/plinth-dev/plinth/tenants/restapi"
	"github.com/plinth-dev/plinth/tenants/schema"
	"github.com/plinth-dev/plinth/tenants/sqlgen"
)

// Server is one Plinth instance.
type Server struct {
	cfg      config.Config
	log      *slog.Logger
	store    *store.Store
	registry *registry.Registry
	pools    *pool.Manager
	schemas  *schema.Cache
	listener *notify.Listener
	redis    *redis.Client
	limiter  *ratelimit.Limiter
	rules    *authz.Engine
	auth     *auth.Service
	usage    *usage.Counter
	metrics  *metrics.Metrics
	app      *fiber.App
	// keyPrincipals holds the principal each cached API key gives: the
	// registry hands out one *store.APIKey per key until it reloads it, and
	// what the principal holds (project, role, key id) never changes.
	keyPrincipals *lru.LRU[keyRole, *principal.Principal]
	requestIDs    *requestIDs

	provisioner *provision.Provisioner
	listening   atomic.Bool
	unstarted   unstarted
	cancel      context.CancelFunc
}

// New connects to Postgres (and Redis), applies platform migrations, creates
// the first admin if configured, and builds the HTTP app.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*Server, error) {
	if cfg.DatabaseURL == "" {
		return nil, errors.New("PLINTH_DATABASE_URL is required (or run `plinth dev`)")
	}
	sealer, err := seal.New(cfg.SecretKey)
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx, cfg.DatabaseURL, log); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, store: st, metrics: metrics.New(), requestIDs: newRequestIDs()}
	s.registry = registry.New(st, sealer, 10000, 5*time.Minute)
	s.keyPrincipals = lru.NewLRU[keyRole, *principal.Principal](10000, nil, 5*time.Minute)
	s.pools, err = pool.New(pool.Options{DatabaseURL: cfg.DatabaseURL, PerPool: cfg.TenantPoolMax, TotalConns: cfg.TotalConnsMax}, s.registry.Credentials)
	if err != nil {
		st.Close()
		return nil, err
	}
	s.schemas = schema.NewCache(2000, func(ctx context.Context, ref string) (*schema.Schema, error) {
		p, err := s.registry.Project(ctx, ref)
		if err != nil {
			return nil, err
		}
		return schema.Load(ctx, st.Pool, p.Schema)
	})
	if cfg.RedisURL != "" {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("PLINTH_REDIS_URL: %w", err)
		}
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.MaxRetries = time.Second, 500*time.Millisecond, 500*time.Millisecond, 1
		// go-redis also retries each dial 5 times by default: with Redis
		// gone that alone would hold a request for seconds.
		opt.DialerRetries = 1
		s.redis = redis.NewClient(opt)
	}
	s.limiter = ratelimit.New(ratelimit.Options{
		Redis: s.redis, Defaults: ratelimit.DefaultsFrom(cfg), FailMode: cfg.RateLimitFail,
		TrustedProxies: cfg.TrustedProxies, Namespace: cfg.TenantPrefix, Rules: st.RateLimits,
		Project: projectOf, Principal: principalOf, Metrics: s.metrics, Log: log,
	})
	s.usage = usage.New(st.Pool, log)
	s.listener = notify.New(cfg.DatabaseURL, log)
	s.listener.Handle(store.ChannelLimits, notify.Handler{OnNotify: s.limiter.Invalidate, OnReset: s.limiter.Purge})
	s.listener.Handle(store.ChannelProject, notify.Handler{
		OnNotify: s.invalidate,
		OnReset:  func() { s.registry.Purge(); s.schemas.Purge(); s.auth.Keys().Purge() },
	})
	s.listener.Handle(store.ChannelSchema, notify.Handler{OnNotify: s.schemas.Invalidate, OnReset: s.schemas.Purge})
	// Access rules: one enforcer per project, reloaded when a NOTIFY names it.
	if s.rules, err = authz.New(st.Pool, authz.Options{Size: 2000, Log: log}); err != nil {
		st.Close()
		return nil, err
	}
	s.listener.Handle(store.ChannelRules, notify.Handler{OnNotify: s.rules.Reload, OnReset: s.rules.Purge})
	s.metrics.GaugeFunc("plinth_rules_projects", "Projects whose access rules are loaded.", func() float64 { return float64(s.rules.Len()) })
	s.metrics.GaugeFunc("plinth_tenant_pools", "Open per-project pools.", func() float64 { return float64(s.pools.Stats().Pools) })
	s.metrics.GaugeFunc("plinth_tenant_conns", "Connections held by project pools.", func() float64 { return float64(s.pools.Stats().TotalConns) })
	s.metrics.GaugeFunc("plinth_tenant_conns_in_use", "Project pool connections in use.", func() float64 { return float64(s.pools.Stats().AcquiredConns) })
	s.metrics.GaugeFunc("plinth_control_conns", "Control-plane pool connections.", func() float64 { return float64(st.Pool.Stat().TotalConns()) })

	if err := s.bootstrapAdmin(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.provisioner = &provision.Provisioner{Store: st, Sealer: sealer, Prefix: cfg.TenantPrefix}
	s.auth = auth.NewService(auth.Config{
		Control: st.Pool, Pools: s.pools, Keys: auth.NewKeys(st.Pool, sealer, 10000, 5*time.Minute),
		PublicURL: cfg.PublicURL, StatementTimeout: cfg.StatementTimeout, Password: password.Default,
	})
	s.app = s.routes()
	return s, nil
}

func (s *Server) bootstrapAdmin(ctx context.Context) error {
	if s.cfg.AdminEmail == "" || s.cfg.AdminPassword == "" {
		return nil
	}
	if _, err := s.store.AdminByEmail(ctx, s.cfg.AdminEmail); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	h, err := password.Hash(s.cfg.AdminPassword, password.Default)
	if err != nil {
		return err
	}
	if _, err := s.store.CreateAdmin(ctx, s.cfg.AdminEmail, h, true); err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	s.log.Info("created first admin", "email", store.NormalizeEmail(s.cfg.AdminEmail))
	return nil
}

// App exposes the Fiber app (tests drive it with app.Test).
func (s *Server) App() *fiber.App { return s.app }

// Store exposes the metadata store (dev mode seeds through it).
func (s *Server) Store() *store.Store { return s.store }

func (s *Server) routes() *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:               "plinth",
		DisableStartupMessage: true,
		// Values from c.Params/c.Get otherwise point into buffers that
		// fasthttp reuses for later requests; caches keyed by them would
		// silently change. Copying is cheap next to a database round trip.
		Immutable:      true,
		ReadBufferSize: 32 * 1024,
		BodyLimit:      8 << 20,
		ReadTimeout:    cmp.Or(s.cfg.ReadTimeout, 30*time.Second),
		WriteTimeout:   60 * time.Second,
		IdleTimeout:    120 * time.Second,
		ErrorHandler:   s.errorHandler,
	})
	s.app = app
	app.Use(s.requestID, s.observe)
	if s.cfg.BaseDomain != "" {
		app.Use(s.hostRouting)
	}
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	app.Get("/readyz", s.ready)
	app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{})))

	proj := app.Group("/p/:ref", s.loadProject, s.cors)
	rest := proj.Group("/rest/v1", s.authenticate, s.limiter.Data())
	data := restapi.New(restapi.Deps{
		Project: projectOf, Principal: principalOf, Schemas: s.schemas, Pools: s.pools,
		MaxRows: s.cfg.MaxRows, StatementTimeout: s.cfg.StatementTimeout, PublicURL: s.cfg.PublicURL,
		VerifyTemplates: s.cfg.VerifyTemplates,
		// The caller's access rules (DESIGN §7.2); nil for service_role.
		Access: func(c *fiber.Ctx) (sqlgen.Access, error) { return s.rules.Access(c.UserContext(), principalOf(c)) },
		Timezones: restapi.NewTimezones(func(ctx context.Context) ([]string, error) {
			rows, err := s.store.Pool.Query(ctx, `select name from pg_timezone_names`)
			if err != nil {
				return nil, err
			}
			return pgx.CollectRows(rows, pgx.RowTo[string])
		}),
	})
	data.Register(rest)
	auth.NewHandler(auth.Deps{
		Service: s.auth, Project: projectOf, Principal: principalOf,
		Guard: []fiber.Handler{s.authenticateKey, s.limiter.Auth()},
	}).Register(proj.Group("/auth/v1"))

	adminapi.New(adminapi.Deps{
		Store: s.store, Provisioner: s.provisioner, Pools: s.pools, Schemas: s.schemas,
		AdminToken: s.cfg.AdminToken, Invalidate: s.invalidate, StatementTimeout: s.cfg.StatementTimeout, Log: s.log,
		PublicURL:  s.cfg.PublicURL,
		DataAPI:    func(r fiber.Router) { r.Use(s.loadProject, asServiceRole); data.Register(r) },
		RateLimits: s.limiter, Usage: s.usage, Rules: s.rules, Auth: s.auth,
		SignIn: adminapi.NewLockout(s.redis, s.cfg.TenantPrefix, s.cfg.TrustedProxies),
	}).Register(app.Group("/admin/v1"))
	s.mountDashboard(app)
	return app
}

func (s *Server) ready(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	checks := fiber.Map{}
	ok := true
	if err := s.store.Pool.Ping(ctx); err != nil {
		checks["postgres"] = "unavailable"
		ok = false
	} else {
		checks["postgres"] = "ok"
	}
	if s.redis != nil {
		if err := s.redis.Ping(ctx).Err(); err != nil {
			checks["redis"] = "unavailable"
			// Failing open, the instance still serves correctly without
			// Redis; pulling it from the load balancer would turn a limiter
			// outage into a full one.
			if s.cfg.RateLimitFail == "closed" {
				ok = false
			}
		} else {
			checks["redis"] = "ok"
		}
	}
	if !ok {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "checks": checks})
	}
	return c.JSON(fiber.Map{"status": "ok", "checks": checks})
}

// Run serves on ln until ctx is cancelled, then drains in-flight requests.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	lctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.listener.Run(lctx)
	go s.usage.Run(lctx, 5*time.Second)
	errc := make(chan error, 1)
	s.app.Hooks().OnListen(func(fiber.ListenData) error { s.listening.Store(true); return nil })
	s.app.Server().ConnState = s.unstarted.track
	go func() { errc <- s.app.Listener(lingeringListener{ln}) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: draining in-flight requests", "timeout", s.cfg.ShutdownTimeout)
	done := make(chan error, 1)
	go func() { done <- s.app.ShutdownWithTimeout(s.cfg.ShutdownTimeout) }()
	// Spare connections that never sent a request would hold the drain open
	// until the deadline; close them as they show up while it runs.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		s.unstarted.closeAll()
		select {
		case err := <-done:
			<-errc
			return err
		case <-tick.C:
		}
	}
}

// Close releases pools and connections.
func (s *Server) Close() {
	if s.cancel != nil {
		s.cancel()
	}
	if s.pools != nil {
		s.pools.Close()
	}
	if s.usage != nil {
		// The last counts of this instance, before the pool goes.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.usage.Flush(ctx); err != nil {
			s.log.Warn("usage: final flush failed", "err", err)
		}
		cancel()
	}
	if s.redis != nil {
		_ = s.redis.Close()
	}
	s.store.Close()
}

// SeedProject provisions a project, runs setup SQL in it as its owner and
// installs its access rules (used by `plinth dev` for the demo project).
func (s *Server) SeedProject(ctx context.Context, ref, name, sql string, rules authz.RuleSet) (*provision.Result, error) {
	res, err := s.provisioner.Create(ctx, ref, name, store.Audit{Actor: "dev"}, nil)
	if err != nil {
		return nil, err
	}
	p, err := s.pools.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	if _, err := pool.Script(ctx, p, res.Project.Schema+"_owner", res.Project.Schema, s.cfg.StatementTimeout, sql); err != nil {
		return nil, err
	}
	s.schemas.Invalidate(ref)
	sch, err := s.schemas.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	if rules, err = authz.Validate(rules, sch); err != nil {
		return nil, err
	}
	if err := s.rules.Replace(ctx, ref, rules, store.Audit{ProjectRef: ref, Actor: "dev", Action: "rules.update", Target: ref}); err != nil {
		return nil, err
	}
	return res, nil
}

// invalidate drops every cached piece of a project on this instance.
func (s *Server) invalidate(ref string) {
	s.registry.Invalidate(ref)
	s.schemas.Invalidate(ref)
	s.auth.Keys().Invalidate(ref)
	s.rules.Forget(ref) // a dropped and re-created project starts deny-all
	s.limiter.Invalidate(ref)
	if s.pools.Has(ref) {
		go s.recheckPool(ref)
	}
}

// recheckPool closes this instance's pool of a project that another
// instance deleted, or deleted and re-created with a new login: the drop
// terminated its connections, and new ones need the new credentials.
// (NOTIFY handlers must not block, hence a goroutine.)
func (s *Server) recheckPool(ref string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	creds, err := s.registry.Credentials(ctx, ref)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.pools.Drop(ref)
	case err == nil:
		s.pools.DropIfChanged(ref, creds)
	}
}

// WaitListening blocks until the server accepts connections or d passes.
func (s *Server) WaitListening(d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if s.listening.Load() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
