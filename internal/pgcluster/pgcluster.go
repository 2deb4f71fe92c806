// Package pgcluster runs a local PostgreSQL cluster from the machine's
// server binaries: created with initdb on first start, listening only on a
// Unix socket inside its data directory, kept across restarts. `muster run`
// uses it for embedded defaults and the test harness for throwaway clusters.
//
// initdb and postgres refuse to run as root; when Muster runs as root, the
// binaries run as the "postgres" system user and the directory is owned by it.
package pgcluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoBinaries means no PostgreSQL server binaries were found.
var ErrNoBinaries = errors.New("PostgreSQL server binaries not found (install them with: apt-get install -y postgresql)")

// Config describes a local cluster.
type Config struct {
	// Dir is the data directory; the Unix socket lives in it too.
	Dir string
	// BinDir holds initdb, pg_ctl and postgres; found automatically when empty.
	BinDir string
	// Port names the socket file (.s.PGSQL.<port>); no TCP listener is opened.
	Port int
	// Fast trades durability for speed (fsync off): for throwaway test clusters.
	Fast bool
	// MaxConnections for the server.
	MaxConnections int
	// Settings are extra server settings, "name=value" each (passed as
	// -c name=value), e.g. shared_preload_libraries=pg_stat_statements.
	Settings []string
	// AltRoot keeps the cluster when running as root and Dir is not
	// reachable by the postgres user (a private directory): the cluster
	// goes to AltRoot/pg-<hash of Dir> instead. Default /var/lib/muster.
	AltRoot string
	Logger  *slog.Logger
}

// WithDefaults fills in the zero fields.
func (c Config) WithDefaults() Config {
	if c.Port == 0 {
		c.Port = 5432
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = 200
	}
	if c.AltRoot == "" {
		c.AltRoot = "/var/lib/muster"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Dir == "" {
		return errors.New("pgcluster: data directory is required")
	}
	if len(c.Dir)+len("/.s.PGSQL.65535") > 100 {
		return fmt.Errorf("pgcluster: data directory path %q is too long for a Unix socket (100 bytes)", c.Dir)
	}
	return nil
}

// Cluster is a running local cluster.
type Cluster struct {
	cfg     Config
	dir     string
	asUser  string // "" when not root
	started bool   // false when another process had already started it
}

// FindBinDir returns the newest /usr/lib/postgresql/*/bin holding initdb, or
// the directory of initdb on PATH.
func FindBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrNoBinaries
}

func pgMajor(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start creates the cluster if its directory holds none and starts it.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	cfg = cfg.WithDefaults()
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, err
	}
	cfg.Dir = dir
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.BinDir == "" {
		if cfg.BinDir, err = FindBinDir(); err != nil {
			return nil, err
		}
	}
	c := &Cluster{cfg: cfg, dir: dir}
	if os.Geteuid() == 0 {
		c.asUser = "postgres"
		if _, err := user.Lookup(c.asUser); err != nil {
			return nil, fmt.Errorf("pgcluster: running as root needs the %q system user (apt-get install -y postgresql creates it): %w", c.asUser, err)
		}
	}
	// Parents must be searchable by the server's user; the directory itself is private.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	if c.asUser != "" {
		if out, err := exec.CommandContext(ctx, "chown", "-R", c.asUser+":", dir).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("pgcluster: chown %s: %w: %s", dir, err, out)
		}
		if err := c.run(ctx, "test", "-w", dir); err != nil {
			// Run as root from a private directory (mktemp -d, /root/…):
			// the server's user cannot get there. Keep the cluster where it
			// can, named after the requested directory, and say so.
			sum := sha256.Sum256([]byte(dir))
			alt := filepath.Join(cfg.AltRoot, "pg-"+hex.EncodeToString(sum[:6]))
			if err := os.MkdirAll(alt, 0o700); err != nil {
				return nil, fmt.Errorf("pgcluster: user %s cannot reach %s, and %s cannot be made: %w", c.asUser, dir, alt, err)
			}
			os.Chmod(cfg.AltRoot, 0o755)
			if out, err := exec.CommandContext(ctx, "chown", "-R", c.asUser+":", alt).CombinedOutput(); err != nil {
				return nil, fmt.Errorf("pgcluster: chown %s: %w: %s", alt, err, out)
			}
			if err := c.run(ctx, "test", "-w", alt); err != nil {
				return nil, fmt.Errorf("pgcluster: user %s can reach neither %s nor %s: %w", c.asUser, dir, alt, err)
			}
			cfg.Logger.Info("the data directory is not reachable by the postgres user; the cluster is kept elsewhere", "requested", dir, "cluster", alt)
			_ = os.WriteFile(filepath.Join(dir, "CLUSTER-IS-ELSEWHERE"), []byte(alt+"\n"), 0o644)
			dir, c.dir = alt, alt
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		start := time.Now()
		if err := c.run(ctx, filepath.Join(cfg.BinDir, "initdb"), "-D", dir, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"); err != nil {
			return nil, fmt.Errorf("pgcluster: initdb: %w", err)
		}
		cfg.Logger.Info("postgres cluster created", "dir", dir, "duration", time.Since(start))
	}
	owner := filepath.Join(dir, "muster.owner")
	if c.run(ctx, filepath.Join(cfg.BinDir, "pg_ctl"), "-D", dir, "status") == nil {
		// Started by a process that has since died (a crash of muster
		// run): adopt it, so it is stopped when this process ends. Started
		// by one still alive (run, while scan or a test shares it): use it.
		if pid, err := readPID(owner); err == nil && !alive(pid) {
			cfg.Logger.Info("postgres left running by a process that ended; adopting it", "dir", dir, "pid", pid)
			c.started = true
			_ = os.WriteFile(owner, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
			return c, nil
		}
		cfg.Logger.Info("postgres already running, using it", "dir", dir)
		return c, nil
	}
	opts := fmt.Sprintf("-k %s -p %d -c listen_addresses='' -c max_connections=%d", dir, cfg.Port, cfg.MaxConnections)
	if cfg.Fast {
		opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	for _, kv := range cfg.Settings {
		opts += " -c " + kv
	}
	if err := c.run(ctx, filepath.Join(cfg.BinDir, "pg_ctl"), "-D", dir, "-o", opts, "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		return nil, fmt.Errorf("pgcluster: start: %w; server log tail: %s", err, tail(log, 800))
	}
	cfg.Logger.Info("postgres started", "dir", dir)
	c.started = true
	_ = os.WriteFile(owner, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
	return c, nil
}

// ConnString returns a connection string for database db over the socket.
func (c *Cluster) ConnString(db string) string {
	return fmt.Sprintf("postgres://postgres@/%s?host=%s&port=%d&sslmode=disable", db, c.dir, c.cfg.Port)
}

// Dir is the data directory.
func (c *Cluster) Dir() string { return c.dir }

// Stop shuts the cluster down (fast mode: active sessions are disconnected)
// unless another process started it.
func (c *Cluster) Stop(ctx context.Context) error {
	if !c.started {
		return nil
	}
	if err := c.run(ctx, filepath.Join(c.cfg.BinDir, "pg_ctl"), "-D", c.dir, "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("pgcluster: stop: %w", err)
	}
	return nil
}

func (c *Cluster) run(ctx context.Context, name string, args ...string) error {
	if c.asUser != "" {
		args = append([]string{"-u", c.asUser, "--", name}, args...)
		name = "runuser"
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = "/"
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", filepath.Base(name), err, tail(out.Bytes(), 800))
	}
	return nil
}

func tail(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// readPID reads the process id kept in path.
func readPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// alive reports whether a process with this id exists.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
