package migrations_test

import (
	"context"
	"errors"
	"testing"

	"github.com/muster-dev/muster/internal/pgtest"
	"github.com/muster-dev/muster/migrations"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestChecksums(t *testing.T) {
	t.Parallel()
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		tamper  string // SQL run before Up
		wantErr bool
		wantSum string // recorded checksum of 0001 afterwards
	}{
		{"unchanged is a no-op", ``, false, all[0].SHA256},
		{"edited applied migration is refused", `UPDATE schema_migrations SET sha256 = repeat('0', 64) WHERE version = 1`, true, ""},
		{"missing checksum is recorded", `UPDATE schema_migrations SET sha256 = NULL`, false, all[0].SHA256},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			pool := pgtest.New(t)
			if tc.tamper != "" {
				if _, err := pool.Exec(ctx, tc.tamper); err != nil {
					t.Fatal(err)
				}
			}
			done, err := migrations.Up(ctx, pool)
			var ce *migrations.ChecksumError
			if tc.wantErr {
				if !errors.As(err, &ce) || ce.Name != all[0].Name {
					t.Fatalf("Up = %v, want a ChecksumError for %s", err, all[0].Name)
				}
				return
			}
			if err != nil || len(done) != 0 {
				t.Fatalf("Up = %v, %v; want nothing applied", done, err)
			}
			var sum string
			if err := pool.QueryRow(ctx, `SELECT sha256 FROM schema_migrations WHERE version = 1`).Scan(&sum); err != nil {
				t.Fatal(err)
			}
			if sum != tc.wantSum {
				t.Fatalf("recorded %s, want %s", sum, tc.wantSum)
			}
		})
	}
}
