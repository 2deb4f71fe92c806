// Package pgtest gives each test its own PostgreSQL database, created from a
// migrated template on one throwaway cluster per test run.
//
// When MUSTER_TEST_DATABASE_URL is set (make test starts one cluster for the
// whole run with pgtmp and sets it), that cluster is used. Otherwise the first
// test that asks starts a cluster in a temporary directory; packages that use
// pgtest call pgtest.Main from TestMain so it is stopped at the end.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/muster-dev/muster/internal/pgcluster"
	"github.com/muster-dev/muster/migrations"
)

// EnvURL names the variable holding an admin URL of a shared test cluster.
const EnvURL = "MUSTER_TEST_DATABASE_URL"

// harness is the per-process state: one cluster (or a shared URL) and the
// name of the migrated template database.
type harness struct {
	once     sync.Once
	err      error
	adminURL string
	cluster  *pgcluster.Cluster
	tmpDir   string
	template string
}

var h harness // process-wide by necessity: one cluster per test run

// Main runs the package's tests and stops a cluster pgtest started.
func Main(m *testing.M) {
	code := m.Run()
	if h.cluster != nil {
		_ = h.cluster.Stop(context.Background())
		_ = os.RemoveAll(h.tmpDir)
	}
	os.Exit(code)
}

func (h *harness) init() error {
	h.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		h.adminURL = os.Getenv(EnvURL)
		if h.adminURL == "" {
			dir, err := os.MkdirTemp("", "pgtest-")
			if err != nil {
				h.err = err
				return
			}
			_ = os.Chmod(dir, 0o755)
			c, err := pgcluster.Start(ctx, pgcluster.Config{Dir: dir + "/pg", Fast: true, MaxConnections: 300})
			if err != nil {
				h.err = err
				return
			}
			h.cluster, h.tmpDir, h.adminURL = c, dir, c.ConnString("postgres")
		}
		h.template, h.err = ensureTemplate(ctx, h.adminURL)
	})
	return h.err
}

// ensureTemplate creates a database with all migrations applied, named by a
// hash of the migrations so that concurrent test processes share it.
func ensureTemplate(ctx context.Context, adminURL string) (string, error) {
	all, err := migrations.All()
	if err != nil {
		return "", err
	}
	sum := sha256.New()
	for _, m := range all {
		fmt.Fprintf(sum, "%s\n%s\n", m.Name, m.SQL)
	}
	name := "muster_tmpl_" + hex.EncodeToString(sum.Sum(nil))[:16]
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(7071)`); err != nil {
		return "", err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7071)`)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	_, _ = conn.Exec(ctx, `DROP DATABASE IF EXISTS `+building+` WITH (FORCE)`)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+building); err != nil {
		return "", fmt.Errorf("pgtest: create template: %w", err)
	}
	pool, err := pgxpool.New(ctx, withDB(adminURL, building))
	if err != nil {
		return "", err
	}
	_, err = migrations.Up(ctx, pool)
	pool.Close()
	if err != nil {
		return "", fmt.Errorf("pgtest: migrate template: %w", err)
	}
	if _, err := conn.Exec(ctx, `ALTER DATABASE `+building+` RENAME TO `+name); err != nil {
		return "", fmt.Errorf("pgtest: rename template: %w", err)
	}
	return name, nil
}

// withDB replaces the database name in a postgres:// URL.
func withDB(raw, db string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(fmt.Sprintf("pgtest: bad database URL: %v", err)) // the harness built it
	}
	u.Path = "/" + db
	return u.String()
}

// NewURL creates a fresh migrated database for the test, drops it when the
// test ends and returns its connection string.
func NewURL(t testing.TB) string {
	t.Helper()
	if err := h.init(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, h.adminURL)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	for attempt := 0; ; attempt++ {
		_, err = conn.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE `+h.template)
		if err == nil {
			break
		}
		if attempt < 50 && strings.Contains(err.Error(), "being accessed by other users") {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), h.adminURL)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	})
	return withDB(h.adminURL, name)
}

// New returns a pool on a fresh migrated database, closed when the test ends.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	url := NewURL(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatalf("pgtest: pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}
