// Package migrations holds Muster's SQL schema as numbered files
// (NNNN_name.sql), embedded in the binary and applied in order, each in its
// own transaction, recorded in schema_migrations with the sha256 of its
// text. On every start the recorded checksums are compared with the
// embedded files: an applied migration that was edited afterwards is an
// error (*ChecksumError), never a silent skip. Each file's header names the
// package that owns the tables it touches; a migration touches only its
// owner's tables.
package migrations

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed *.sql
var files embed.FS

// lockID is the advisory lock that serialises concurrent migrators.
const lockID = 0x6d757374 // "must"

// Migration is one schema file.
type Migration struct {
	Version int
	Name    string
	SQL     string
	// SHA256 is the hex sha256 of SQL.
	SHA256 string
}

// ChecksumError reports an applied migration whose embedded text no longer
// matches what was applied.
type ChecksumError struct {
	Name              string
	Applied, Embedded string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("migration %s was changed after it was applied (applied sha256 %.12s, embedded %.12s): add a new migration instead of editing an applied one", e.Name, e.Applied, e.Embedded)
}

// All returns the embedded migrations in version order.
func All() ([]Migration, error) {
	entries, err := fs.Glob(files, "*.sql")
	if err != nil {
		return nil, err
	}
	var out []Migration
	seen := map[int]string{}
	for _, name := range entries {
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql", name)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, name, v)
		}
		seen[v] = name
		b, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		out = append(out, Migration{Version: v, Name: name, SQL: string(b), SHA256: hex.EncodeToString(sum[:])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Up applies every migration not yet applied and returns the names applied.
func Up(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	all, err := All()
	if err != nil {
		return nil, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: acquire: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockID); err != nil {
		return nil, fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockID)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
		ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS sha256 text`); err != nil {
		return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	applied := map[int]string{}
	rows, err := conn.Query(ctx, `SELECT version, coalesce(sha256, '') FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	var v int
	var sum string
	if _, err := pgx.ForEachRow(rows, []any{&v, &sum}, func() error { applied[v] = sum; return nil }); err != nil {
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	var done []string
	for _, m := range all {
		recorded, ok := applied[m.Version]
		switch {
		case ok && recorded == "":
			// Applied before checksums were kept: record the current text
			// (from now on an edit is detected).
			if _, err := conn.Exec(ctx, `UPDATE schema_migrations SET sha256 = $2 WHERE version = $1`, m.Version, m.SHA256); err != nil {
				return done, fmt.Errorf("migrate %s: record checksum: %w", m.Name, err)
			}
			continue
		case ok && recorded != m.SHA256:
			return done, &ChecksumError{Name: m.Name, Applied: recorded, Embedded: m.SHA256}
		case ok:
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, sha256) VALUES ($1, $2, $3)`, m.Version, m.Name, m.SHA256)
			return err
		})
		if err != nil {
			return done, fmt.Errorf("migrate %s: %w", m.Name, err)
		}
		done = append(done, m.Name)
	}
	return done, nil
}
