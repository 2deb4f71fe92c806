package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/internal/config"
	"github.com/muster-dev/muster/internal/natsembed"
	"github.com/muster-dev/muster/internal/pgcluster"
	"github.com/muster-dev/muster/migrations"
	"github.com/muster-dev/muster/policy"
	"github.com/muster-dev/muster/store"
	"github.com/muster-dev/muster/workers"
)

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: muster COMMAND [FLAGS] [ARGS]")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s %s\t%s\n", c.name, c.args, c.summary)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Settings: environment variables apply to every command; run, serve, worker, migrate, scan and")
	fmt.Fprintln(w, "models also take them as flags (before the command's arguments).")
	config.Usage(w)
}

// services are the database and NATS connections of a process.
type services struct {
	pool *pgxpool.Pool
	nc   *nats.Conn
	// natsToken is the embedded NATS server's client token, if this
	// process started one.
	natsToken string
	closers   []func()
}

// Close releases the connections and stops what the process started, in reverse order.
func (s *services) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// openDB connects to MUSTER_DATABASE_URL or, when embedded is allowed and
// it is empty, to a local cluster in the data directory (started if needed
// and migrated: a development convenience; an external database is migrated
// only by run and migrate).
func openDB(ctx context.Context, cfg config.Config, log *slog.Logger, embedded bool, s *services) error {
	url := cfg.DatabaseURL
	if url == "" {
		if !embedded {
			return errors.New("MUSTER_DATABASE_URL (--database-url) is required for this command")
		}
		c, err := pgcluster.Start(ctx, pgcluster.Config{Dir: filepath.Join(cfg.DataDir, "postgres"), Logger: log})
		if err != nil {
			return err
		}
		s.closers = append(s.closers, func() { _ = c.Stop(context.Background()) })
		if err := ensureDatabase(ctx, c.ConnString("postgres"), "muster"); err != nil {
			return err
		}
		url = c.ConnString("muster")
	}
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if cfg.DatabaseMaxConns > 0 && !strings.Contains(url, "pool_max_conns") {
		pcfg.MaxConns = int32(cfg.DatabaseMaxConns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	s.closers = append(s.closers, pool.Close)
	if err := pool.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	s.pool = pool
	if cfg.DatabaseURL == "" {
		return migrate(ctx, pool, log)
	}
	return nil
}

func ensureDatabase(ctx context.Context, adminURL, name string) error {
	pool, err := pgxpool.New(ctx, adminURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if !exists {
		if _, err := pool.Exec(ctx, `CREATE DATABASE `+name); err != nil {
			return fmt.Errorf("create database %s: %w", name, err)
		}
	}
	return nil
}

// openNATS connects to MUSTER_NATS_URL or, when embedded is allowed and it
// is empty, to an embedded JetStream server keeping its data in the data
// directory (listening on 127.0.0.1:4222 so external workers can join).
func openNATS(ctx context.Context, cfg config.Config, log *slog.Logger, embedded bool, s *services) error {
	url := cfg.NATSURL
	if url == "" {
		if !embedded {
			return errors.New("MUSTER_NATS_URL (--nats-url) is required for this command")
		}
		port := 4222
		if ln, err := net.Listen("tcp", "127.0.0.1:4222"); err == nil {
			ln.Close()
		} else {
			port = -1
		}
		tok, err := secretFile(filepath.Join(cfg.DataDir, "nats-token"))
		if err != nil {
			return fmt.Errorf("nats token: %w", err)
		}
		ns, err := natsembed.Start(natsembed.Config{StoreDir: filepath.Join(cfg.DataDir, "nats"), Port: port, Token: tok})
		if err != nil {
			return err
		}
		s.closers = append(s.closers, func() { ns.Shutdown(); ns.WaitForShutdown() })
		url = ns.ClientURL()
		s.natsToken = tok
		log.Info("embedded NATS JetStream started", "url", url, "token_file", filepath.Join(cfg.DataDir, "nats-token"))
	}
	copts := []nats.Option{nats.Name("muster"), nats.MaxReconnects(-1)}
	if s.natsToken != "" {
		copts = append(copts, nats.Token(s.natsToken))
	}
	nc, err := nats.Connect(url, copts...)
	if err != nil {
		return fmt.Errorf("nats %s: %w", url, err)
	}
	s.closers = append(s.closers, func() { _ = nc.Drain() })
	s.nc = nc
	return nil
}

// buildDecider returns the live policy from PostgreSQL (seeded with the
// default pack on first use).
func buildDecider(ctx context.Context, cfg config.Config, log *slog.Logger, s *services) (workers.Decider, error) {
	d, err := policy.NewDecider(ctx, policy.NewStore(s.pool, store.New(s.pool), policy.Config{Logger: log}), policy.DeciderConfig{})
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return d, nil
}

func migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	done, err := migrations.Up(ctx, pool)
	for _, m := range done {
		log.Info("migration applied", "name", m)
	}
	return err
}

func cmdRun(ctx context.Context, e *env, args []string) error {
	return runPipeline(ctx, e, "run", args, true, true, true)
}

func cmdServe(ctx context.Context, e *env, args []string) error {
	return runPipeline(ctx, e, "serve", args, false, true, false)
}

func cmdWorker(ctx context.Context, e *env, args []string) error {
	return runPipeline(ctx, e, "worker", args, false, false, true)
}

func runPipeline(ctx context.Context, e *env, name string, args []string, embedded, serve, work bool) error {
	cfg, rest, err := config.Parse(name, args, e.getenv, e.stderr)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%s takes no arguments, got %q", name, rest)
	}
	if embedded && cfg.HTTPAddr == config.DefaultHTTPAddr {
		// The all-in-one development process listens on loopback only
		// unless told otherwise (MUSTER_HTTP_ADDR=0.0.0.0:8080).
		cfg.HTTPAddr = "127.0.0.1" + config.DefaultHTTPAddr
	}
	log := cfg.Logger(e.stderr)
	s := &services{}
	defer s.Close()
	if err := openDB(ctx, cfg, log, embedded, s); err != nil {
		return err
	}
	if embedded && cfg.DatabaseURL != "" {
		if err := migrate(ctx, s.pool, log); err != nil { // run migrates an external database too
			return err
		}
	}
	if err := openNATS(ctx, cfg, log, embedded, s); err != nil {
		return err
	}
	opts := app.Options{Config: cfg, Logger: log, Serve: serve, Work: work}
	if work {
		// Every entry point that analyses seeds the same default banks as
		// run: a worker on a fresh database must not "find nothing".
		if slices.Contains(cfg.Analyzers, "bank") || slices.Contains(cfg.Analyzers, "listing") {
			if err := app.SeedBanks(ctx, cfg, s.pool, s.nc, e.stderr); err != nil {
				return fmt.Errorf("seed banks: %w", err)
			}
		}
		var closeAnalyzers func()
		if opts.Analyzers, closeAnalyzers, err = app.Analyzers(ctx, cfg, s.pool, s.nc, log); err != nil {
			return err
		}
		defer closeAnalyzers()
	}
	p, err := app.New(ctx, s.pool, s.nc, opts)
	if err != nil {
		return err
	}
	if embedded {
		key, created, err := devKey(ctx, p.Store, cfg.DataDir)
		if err != nil {
			return err
		}
		keyLine := key + "  (a merchant key of the dev tenant, shown this once; kept in " + filepath.Join(cfg.DataDir, "dev-api-key") + ")"
		if !created {
			key, keyLine = "$(cat "+filepath.Join(cfg.DataDir, "dev-api-key")+")", "in "+filepath.Join(cfg.DataDir, "dev-api-key")+" (shown when it was created)"
		}
		base := baseURL(cfg.HTTPAddr)
		logins, loginsCreated, err := devLogins(ctx, p.Accounts, p.Store, cfg.DataDir)
		if err != nil {
			return fmt.Errorf("development console logins: %w", err)
		}
		fmt.Fprintf(e.stdout, "\nMuster is up.\n  API:     %s  (OpenAPI: /openapi.json)\n  API key: %s\n  Try:     curl -H \"Authorization: Bearer %s\" -F design=@shirt.png -F markets=DE,US,FR -F product=tshirt \"%s/v1/designs?wait=5s\"\n",
			base, keyLine, key, base)
		if cfg.MetricsAddr != "" && cfg.MetricsAddr != "off" {
			fmt.Fprintf(e.stdout, "  Metrics: %s/metrics\n", baseURL(cfg.MetricsAddr))
		}
		if s.natsToken != "" {
			fmt.Fprintf(e.stdout, "  NATS:    %s  (token in %s)\n", s.nc.ConnectedUrlRedacted(), filepath.Join(cfg.DataDir, "nats-token"))
		}
		fmt.Fprintf(e.stdout, "  Console: %s/console/\n", base)
		loginsPath := filepath.Join(cfg.DataDir, "dev-console-logins")
		for _, l := range logins {
			if loginsCreated {
				fmt.Fprintf(e.stdout, "           %-24s password %s\n", l[0], l[1])
			} else {
				fmt.Fprintf(e.stdout, "           %s\n", l[0])
			}
		}
		if loginsCreated {
			fmt.Fprintf(e.stdout, "           (development logins, shown this once; kept in %s; change them under your account)\n\n", loginsPath)
		} else {
			fmt.Fprintf(e.stdout, "           (passwords in %s, shown when they were created; muster user password EMAIL resets one)\n\n", loginsPath)
		}
	}
	return p.Run(ctx)
}

// devKey returns the development API key kept in the data directory,
// creating the "dev" tenant and a merchant key on first use (created is
// true then: the only time run prints the key).
func devKey(ctx context.Context, st *store.Store, dataDir string) (key string, created bool, err error) {
	path := filepath.Join(dataDir, "dev-api-key")
	if b, err := os.ReadFile(path); err == nil {
		key := strings.TrimSpace(string(b))
		if _, err := st.Authenticate(ctx, key); err == nil {
			return key, false, nil
		}
	}
	t, err := st.Tenant(ctx, "dev")
	if errors.Is(err, store.ErrNotFound) {
		t, _, err = st.CreatePlatformTenant(ctx, "dev", "")
	}
	if err != nil {
		return "", false, err
	}
	key, _, err = st.CreateKey(ctx, t.ID, store.RoleMerchant, "development key created by muster run")
	if err != nil {
		return "", false, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", false, err
	}
	return key, true, os.WriteFile(path, []byte(key+"\n"), 0o600)
}

// secretFile returns the secret kept in path, creating a random one (32
// bytes, hex, mode 0600) on first use.
func secretFile(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(buf)
	return tok, os.WriteFile(path, []byte(tok+"\n"), 0o600)
}

// baseURL is the http:// URL a person on this machine opens for a listen
// address: an empty or unspecified host is localhost.
func baseURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	cfg, _, err := config.Parse("migrate", args, e.getenv, e.stderr)
	if err != nil {
		return err
	}
	log := cfg.Logger(e.stderr)
	s := &services{}
	defer s.Close()
	if err := openDB(ctx, cfg, log, true, s); err != nil {
		return err
	}
	if err := migrate(ctx, s.pool, log); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "migrations up to date")
	return nil
}

// operator opens what an operator command (tenant, key, bank, policy)
// needs: settings from the environment, the logger and the database (the
// local cluster when MUSTER_DATABASE_URL is empty). The caller closes s.
func (e *env) operator(ctx context.Context, name string) (config.Config, *slog.Logger, *services, error) {
	cfg, _, err := config.Parse(name, nil, e.getenv, e.stderr)
	if err != nil {
		return cfg, nil, nil, err
	}
	log := cfg.Logger(e.stderr)
	s := &services{}
	if err := openDB(ctx, cfg, log, true, s); err != nil {
		s.Close()
		return cfg, nil, nil, err
	}
	return cfg, log, s, nil
}

// user names the operator in audit trails: $USER, or "cli".
func (e *env) user() string {
	if u := e.getenv("USER"); u != "" {
		return u
	}
	return "cli"
}

// operatorNATS connects to MUSTER_NATS_URL or else to a running `muster
// run` on 127.0.0.1:4222, to tell workers and tenants about a change; it
// returns nil, with a note saying what is lost, when neither answers.
func (e *env) operatorNATS(cfg config.Config, lost string) *nats.Conn {
	url := cfg.NATSURL
	opts := []nats.Option{nats.Timeout(2 * time.Second)}
	if url == "" {
		url = "nats://127.0.0.1:4222"
		// A running `muster run` in the same data directory requires its token.
		if b, err := os.ReadFile(filepath.Join(cfg.DataDir, "nats-token")); err == nil {
			opts = append(opts, nats.Token(strings.TrimSpace(string(b))))
		}
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		fmt.Fprintf(e.stderr, "note: NATS at %s unreachable (%v): %s\n", url, err, lost)
		return nil
	}
	return nc
}

// adminStore opens the core store for tenant and key administration.
func adminStore(ctx context.Context, e *env, name string, args []string) (*store.Store, []string, func(), error) {
	_, _, s, err := e.operator(ctx, name)
	if err != nil {
		return nil, nil, nil, err
	}
	return store.New(s.pool), args, s.Close, nil
}

func cmdTenant(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: muster tenant create NAME [--webhook URL] [--platform] [--tier free|paid] | list | tier NAME free|paid")
	}
	st, rest, closeFn, err := adminStore(ctx, e, "tenant", args[1:])
	if err != nil {
		return err
	}
	defer closeFn()
	switch args[0] {
	case "create":
		fs := flag.NewFlagSet("tenant create", flag.ContinueOnError)
		fs.SetOutput(e.stderr)
		webhook := fs.String("webhook", "", "webhook URL for verdict notifications")
		platform := fs.Bool("platform", false, "the platform operator's tenant (its keys reach platform-wide routes such as policy)")
		tier := fs.String("tier", "", "free or paid (default: free; paid for --platform); the numbers are MUSTER_TIER_FREE and MUSTER_TIER_PAID")
		if err := fs.Parse(reorder(fs, rest)); err != nil {
			return err
		}
		if *tier != "" && !store.ValidTier(*tier) {
			return fmt.Errorf("--tier must be free or paid, got %q", *tier)
		}
		if fs.NArg() != 1 {
			return errors.New("usage: muster tenant create NAME [--webhook URL]")
		}
		create := st.CreateTenant
		if *platform {
			create = st.CreatePlatformTenant
		}
		t, secret, err := create(ctx, fs.Arg(0), *webhook)
		if err != nil {
			return err
		}
		if *tier != "" && *tier != t.Tier {
			if err := st.SetTenantTier(ctx, t.ID, *tier); err != nil {
				return err
			}
			t.Tier = *tier
		}
		fmt.Fprintf(e.stdout, "tenant %s created: %s (%s tier)\n", t.Name, t.ID, t.Tier)
		if secret != "" {
			fmt.Fprintf(e.stdout, "webhook secret (shown once): %s\n", secret)
		}
		return nil
	case "list":
		ts, err := st.Tenants(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tTIER\tWEBHOOK\tCREATED")
		for _, t := range ts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Tier, t.WebhookURL, t.CreatedAt.Format("2006-01-02 15:04"))
		}
		return tw.Flush()
	case "tier":
		if len(rest) != 2 {
			return errors.New("usage: muster tenant tier NAME free|paid")
		}
		if err := st.SetTenantTier(ctx, rest[0], rest[1]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "tenant %s is on the %s tier\n", rest[0], rest[1])
		return nil
	}
	return fmt.Errorf("unknown tenant command %q", args[0])
}

func cmdKey(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: muster key create --tenant T --role R [--name N] | list --tenant T | revoke ID")
	}
	st, rest, closeFn, err := adminStore(ctx, e, "key", args[1:])
	if err != nil {
		return err
	}
	defer closeFn()
	fs := flag.NewFlagSet("key "+args[0], flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	tenant := fs.String("tenant", "", "tenant id or name")
	role := fs.String("role", store.RoleMerchant, "merchant, reviewer, legal or admin")
	name := fs.String("name", "", "what the key is for")
	if err := fs.Parse(reorder(fs, rest)); err != nil {
		return err
	}
	switch args[0] {
	case "create", "list":
		if *tenant == "" {
			return errors.New("--tenant is required")
		}
		t, err := st.Tenant(ctx, *tenant)
		if err != nil {
			return err
		}
		if args[0] == "create" {
			key, k, err := st.CreateKey(ctx, t.ID, *role, *name)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "key %s (%s) created for tenant %s; it is shown once:\n", k.Prefix, k.Role, t.Name)
			fmt.Fprintln(e.stdout, key)
			return nil
		}
		keys, err := st.Keys(ctx, t.ID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tPREFIX\tROLE\tNAME\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := ""
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, k.Role, k.Name, k.CreatedAt.Format("2006-01-02 15:04"), revoked)
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return errors.New("usage: muster key revoke ID|PREFIX")
		}
		if err := st.RevokeKey(ctx, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, "revoked")
		return nil
	}
	return fmt.Errorf("unknown key command %q", args[0])
}

// reorder moves flags before positional arguments so "create NAME --x y"
// works. A flag takes the next word as its value only when it is not a
// boolean flag of fs ("--platform acme" keeps acme as a positional
// argument); "--" ends the flags.
func reorder(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && !isBoolFlag(fs, name) && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

// isBoolFlag reports whether fs defines name as a boolean flag.
func isBoolFlag(fs *flag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
