package bank

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/muster-dev/muster/bank/match"
)

// Announcer publishes a change after it is committed (see NATSAnnouncer).
type Announcer interface {
	Announce(ctx context.Context, c Change) error
}

// Store reads and writes banks in PostgreSQL (migrations/0002_banks.sql).
// Every write runs in one transaction that bumps the bank's version and
// appends an audit row, then announces the change.
type Store struct {
	pool     *pgxpool.Pool
	announce Announcer
}

// NewStore returns a store; announce may be nil (no announcements).
func NewStore(pool *pgxpool.Pool, announce Announcer) *Store {
	return &Store{pool: pool, announce: announce}
}

// tx runs fn in a transaction holding the bank's row lock, with the bank's
// next version; it appends the audit rows fn returns and announces.
func (s *Store) tx(ctx context.Context, bank string, fn func(tx pgx.Tx, version int64) (Change, []AuditRecord, error)) (Change, error) {
	var ch Change
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var version int64
		err := tx.QueryRow(ctx, `UPDATE banks SET version = version + 1, updated_at = now() WHERE name = $1 RETURNING version`, bank).Scan(&version)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("bank %q: %w", bank, ErrNotFound)
		}
		if err != nil {
			return err
		}
		c, audits, err := fn(tx, version)
		if err != nil {
			return err
		}
		for _, a := range audits {
			change, _ := json.Marshal(a.Change)
			var tenant *string
			if a.TenantID != "" {
				tenant = &a.TenantID
			}
			var entry *string
			if a.EntryID != "" {
				entry = &a.EntryID
			}
			if _, err := tx.Exec(ctx, `INSERT INTO bank_audit (bank, version, entry_id, tenant_id, action, actor, change) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
				bank, version, entry, tenant, a.Action, a.Actor, change); err != nil {
				return fmt.Errorf("audit: %w", err)
			}
		}
		c.Bank, c.Version = bank, version
		ch = c
		return nil
	})
	if err != nil {
		return Change{}, mapErr(err)
	}
	if s.announce != nil {
		if err := s.announce.Announce(ctx, ch); err != nil {
			// The change is committed; matchers catch up from the audit trail
			// on the next announcement. Report, don't fail.
			return ch, fmt.Errorf("bank %s v%d committed but not announced: %w", ch.Bank, ch.Version, err)
		}
	}
	return ch, nil
}

func mapErr(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23514", "23502", "22P02": // check, not null, bad text representation
			return fmt.Errorf("%w: %s", ErrInvalid, pe.Message)
		case "23503": // foreign key
			return fmt.Errorf("%w: %s", ErrNotFound, pe.Message)
		}
	}
	return err
}

// CreateBank creates a bank at version 1 (or returns it unchanged if a bank
// of that name and kind exists).
func (s *Store) CreateBank(ctx context.Context, b Bank, actor string) (Bank, error) {
	if b.Threshold == 0 {
		b.Threshold = match.DefaultThreshold
	}
	if err := ValidateBank(&b); err != nil {
		return Bank{}, err
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO banks (name, kind, threshold, description) VALUES ($1,$2,$3,$4) ON CONFLICT (name) DO NOTHING`,
		b.Name, b.Kind, b.Threshold, b.Description)
	if err != nil {
		return Bank{}, fmt.Errorf("create bank %s: %w", b.Name, mapErr(err))
	}
	if tag.RowsAffected() == 1 {
		change, _ := json.Marshal(map[string]any{"kind": b.Kind, "threshold": b.Threshold})
		if _, err := s.pool.Exec(ctx, `INSERT INTO bank_audit (bank, version, action, actor, change) VALUES ($1, 1, 'create_bank', $2, $3)`, b.Name, actor, change); err != nil {
			return Bank{}, fmt.Errorf("create bank %s: audit: %w", b.Name, err)
		}
	}
	got, err := s.Bank(ctx, b.Name)
	if err != nil {
		return Bank{}, err
	}
	if got.Kind != b.Kind {
		return Bank{}, fmt.Errorf("%w: bank %s exists with kind %s", ErrInvalid, b.Name, got.Kind)
	}
	return got, nil
}

// Bank returns one bank.
func (s *Store) Bank(ctx context.Context, name string) (Bank, error) {
	var b Bank
	err := s.pool.QueryRow(ctx, `SELECT name, kind, version, threshold, description, created_at, updated_at FROM banks WHERE name = $1`, name).
		Scan(&b.Name, &b.Kind, &b.Version, &b.Threshold, &b.Description, &b.CreatedAt, &b.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Bank{}, fmt.Errorf("bank %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return Bank{}, fmt.Errorf("bank %q: %w", name, err)
	}
	return b, nil
}

// Banks lists all banks by name.
func (s *Store) Banks(ctx context.Context) ([]Bank, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, kind, version, threshold, description, created_at, updated_at FROM banks ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("banks: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Bank, error) {
		var b Bank
		err := r.Scan(&b.Name, &b.Kind, &b.Version, &b.Threshold, &b.Description, &b.CreatedAt, &b.UpdatedAt)
		return b, err
	})
}

// SetThreshold changes a bank's match threshold.
func (s *Store) SetThreshold(ctx context.Context, bank string, threshold float64, actor string) (Change, error) {
	if threshold <= 0 || threshold > 1 {
		return Change{}, fmt.Errorf("%w: threshold %g outside (0,1]", ErrInvalid, threshold)
	}
	return s.tx(ctx, bank, func(tx pgx.Tx, v int64) (Change, []AuditRecord, error) {
		var old float64
		if err := tx.QueryRow(ctx, `SELECT threshold FROM banks WHERE name = $1`, bank).Scan(&old); err != nil {
			return Change{}, nil, err
		}
		if _, err := tx.Exec(ctx, `UPDATE banks SET threshold = $2 WHERE name = $1`, bank, threshold); err != nil {
			return Change{}, nil, err
		}
		return Change{BankSettings: true}, []AuditRecord{{Action: "update_bank", Actor: actor, Change: map[string]any{"threshold": map[string]float64{"from": old, "to": threshold}}}}, nil
	})
}

const entryCols = `bank, id, label, owner, jurisdictions, classes, famous, word_marks, source, form, notes,
	disabled, disabled_until, disabled_note, reference_png, prepared, hashes, algorithm, version, created_at, updated_at`

func scanEntry(r pgx.Row) (Entry, error) {
	var e Entry
	var form []byte
	var hashes []int64
	err := r.Scan(&e.Bank, &e.ID, &e.Label, &e.Owner, &e.Jurisdictions, &e.Classes, &e.Famous, &e.WordMarks, &e.Source, &form, &e.Notes,
		&e.Disabled, &e.DisabledUntil, &e.DisabledNote, &e.ReferencePNG, &e.Prepared, &hashes, &e.Algorithm, &e.Version, &e.CreatedAt, &e.UpdatedAt)
	if err != nil {
		return e, err
	}
	_ = json.Unmarshal(form, &e.Form)
	for _, h := range hashes {
		e.Hashes = append(e.Hashes, uint64(h))
	}
	return e, nil
}

// PutEntries adds or replaces entries of one bank in one version.
func (s *Store) PutEntries(ctx context.Context, bank string, entries []Entry, actor string) (Change, error) {
	for i := range entries {
		if err := ValidateEntry(&entries[i]); err != nil {
			return Change{}, err
		}
		if len(entries[i].Prepared) == 0 {
			return Change{}, fmt.Errorf("%w: entry %s has no prepared reference", ErrInvalid, entries[i].ID)
		}
	}
	return s.tx(ctx, bank, func(tx pgx.Tx, v int64) (Change, []AuditRecord, error) {
		var ch Change
		var audits []AuditRecord
		for _, e := range entries {
			form, _ := json.Marshal(e.Form)
			hashes := make([]int64, len(e.Hashes))
			for i, h := range e.Hashes {
				hashes[i] = int64(h)
			}
			var inserted bool
			err := tx.QueryRow(ctx, `INSERT INTO bank_entries (bank, id, label, owner, jurisdictions, classes, famous, word_marks, source, form, notes,
					disabled, disabled_until, disabled_note, reference_png, prepared, hashes, algorithm, version)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19)
				ON CONFLICT (bank, id) DO UPDATE SET label = EXCLUDED.label, owner = EXCLUDED.owner, jurisdictions = EXCLUDED.jurisdictions,
					classes = EXCLUDED.classes, famous = EXCLUDED.famous, word_marks = EXCLUDED.word_marks, source = EXCLUDED.source,
					form = EXCLUDED.form, notes = EXCLUDED.notes, disabled = EXCLUDED.disabled, disabled_until = EXCLUDED.disabled_until,
					disabled_note = EXCLUDED.disabled_note, reference_png = EXCLUDED.reference_png, prepared = EXCLUDED.prepared,
					hashes = EXCLUDED.hashes, algorithm = EXCLUDED.algorithm, version = EXCLUDED.version, updated_at = now()
				RETURNING (xmax = 0)`,
				bank, e.ID, e.Label, e.Owner, nonNil(e.Jurisdictions), nonNilInt(e.Classes), e.Famous, nonNil(e.WordMarks), e.Source, form, e.Notes,
				e.Disabled, e.DisabledUntil, e.DisabledNote, e.ReferencePNG, e.Prepared, hashes, e.Algorithm, v).Scan(&inserted)
			if err != nil {
				return ch, nil, fmt.Errorf("put entry %s: %w", e.ID, err)
			}
			action := "update"
			if inserted {
				action = "add"
			}
			ch.EntryIDs = append(ch.EntryIDs, e.ID)
			audits = append(audits, AuditRecord{EntryID: e.ID, Action: action, Actor: actor, Change: map[string]any{
				"label": e.Label, "owner": e.Owner, "jurisdictions": nonNil(e.Jurisdictions), "classes": nonNilInt(e.Classes),
				"famous": e.Famous, "word_marks": nonNil(e.WordMarks), "source": e.Source, "form": e.Form, "algorithm": e.Algorithm,
			}})
		}
		return ch, audits, nil
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilInt(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}

// Entry returns one entry.
func (s *Store) Entry(ctx context.Context, bank, id string) (Entry, error) {
	e, err := scanEntry(s.pool.QueryRow(ctx, `SELECT `+entryCols+` FROM bank_entries WHERE bank = $1 AND id = $2`, bank, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Entry{}, fmt.Errorf("entry %s/%s: %w", bank, id, ErrNotFound)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("entry %s/%s: %w", bank, id, err)
	}
	return e, nil
}

// Entries returns the bank's entries with the given ids (all when ids is nil),
// sorted by id; ids that do not exist are simply absent.
func (s *Store) Entries(ctx context.Context, bank string, ids []string) ([]Entry, error) {
	var rows pgx.Rows
	var err error
	if ids == nil {
		rows, err = s.pool.Query(ctx, `SELECT `+entryCols+` FROM bank_entries WHERE bank = $1 ORDER BY id`, bank)
	} else {
		rows, err = s.pool.Query(ctx, `SELECT `+entryCols+` FROM bank_entries WHERE bank = $1 AND id = ANY($2) ORDER BY id`, bank, ids)
	}
	if err != nil {
		return nil, fmt.Errorf("entries %s: %w", bank, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) { return scanEntry(r) })
	if err != nil {
		return nil, fmt.Errorf("entries %s: %w", bank, err)
	}
	return out, nil
}

// SetPrepared stores an entry's reference prepared again by the current
// matching algorithm (its encoding changed). It changes no content, so it
// does not bump the bank version or write an audit row; the algorithm
// column records the preparing version.
func (s *Store) SetPrepared(ctx context.Context, e Entry) error {
	hashes := make([]int64, len(e.Hashes))
	for i, h := range e.Hashes {
		hashes[i] = int64(h)
	}
	_, err := s.pool.Exec(ctx, `UPDATE bank_entries SET prepared = $3, hashes = $4, algorithm = $5 WHERE bank = $1 AND id = $2`,
		e.Bank, e.ID, e.Prepared, hashes, e.Algorithm)
	if err != nil {
		return fmt.Errorf("entry %s/%s: store prepared reference: %w", e.Bank, e.ID, err)
	}
	return nil
}

// DeleteEntry deletes an entry (its allow-list rows go with it).
func (s *Store) DeleteEntry(ctx context.Context, bank, id, actor string) (Change, error) {
	return s.tx(ctx, bank, func(tx pgx.Tx, v int64) (Change, []AuditRecord, error) {
		var label string
		err := tx.QueryRow(ctx, `DELETE FROM bank_entries WHERE bank = $1 AND id = $2 RETURNING label`, bank, id).Scan(&label)
		if errors.Is(err, pgx.ErrNoRows) {
			return Change{}, nil, fmt.Errorf("entry %s/%s: %w", bank, id, ErrNotFound)
		}
		if err != nil {
			return Change{}, nil, err
		}
		return Change{EntryIDs: []string{id}, Allowlist: true}, []AuditRecord{{EntryID: id, Action: "delete", Actor: actor, Change: map[string]any{"label": label}}}, nil
	})
}

// DisableEntry stops an entry matching, until a time if until is not nil.
func (s *Store) DisableEntry(ctx context.Context, bank, id string, until *time.Time, note, actor string) (Change, error) {
	return s.setDisabled(ctx, bank, id, true, until, note, actor)
}

// EnableEntry lets a disabled entry match again.
func (s *Store) EnableEntry(ctx context.Context, bank, id, actor string) (Change, error) {
	return s.setDisabled(ctx, bank, id, false, nil, "", actor)
}

func (s *Store) setDisabled(ctx context.Context, bank, id string, disabled bool, until *time.Time, note, actor string) (Change, error) {
	return s.tx(ctx, bank, func(tx pgx.Tx, v int64) (Change, []AuditRecord, error) {
		tag, err := tx.Exec(ctx, `UPDATE bank_entries SET disabled = $3, disabled_until = $4, disabled_note = $5, version = $6, updated_at = now() WHERE bank = $1 AND id = $2`,
			bank, id, disabled, until, note, v)
		if err != nil {
			return Change{}, nil, err
		}
		if tag.RowsAffected() == 0 {
			return Change{}, nil, fmt.Errorf("entry %s/%s: %w", bank, id, ErrNotFound)
		}
		action, change := "enable", map[string]any{}
		if disabled {
			action, change = "disable", map[string]any{"until": until, "note": note}
		}
		return Change{EntryIDs: []string{id}}, []AuditRecord{{EntryID: id, Action: action, Actor: actor, Change: change}}, nil
	})
}

// Allow records that a tenant may use an entry's mark, with evidence and an
// optional expiry (replacing an earlier allowance).
func (s *Store) Allow(ctx context.Context, a Allow, actor string) (Change, error) {
	if a.Evidence == "" {
		return Change{}, fmt.Errorf("%w: allow-list entry needs evidence", ErrInvalid)
	}
	return s.tx(ctx, a.Bank, func(tx pgx.Tx, v int64) (Change, []AuditRecord, error) {
		_, err := tx.Exec(ctx, `INSERT INTO bank_allowlist (bank, entry_id, tenant_id, evidence, expires_at, created_by) VALUES ($1,$2,$3,$4,$5,$6)
			ON CONFLICT (bank, entry_id, tenant_id) DO UPDATE SET evidence = EXCLUDED.evidence, expires_at = EXCLUDED.expires_at,
				created_by = EXCLUDED.created_by, created_at = now()`,
			a.Bank, a.EntryID, a.TenantID, a.Evidence, a.ExpiresAt, actor)
		if err != nil {
			return Change{}, nil, err
		}
		return Change{Allowlist: true}, []AuditRecord{{EntryID: a.EntryID, TenantID: a.TenantID, Action: "allow", Actor: actor,
			Change: map[string]any{"evidence": a.Evidence, "expires_at": a.ExpiresAt}}}, nil
	})
}

// Disallow removes a tenant's allowance.
func (s *Store) Disallow(ctx context.Context, bank, entryID, tenantID, actor string) (Change, error) {
	return s.tx(ctx, bank, func(tx pgx.Tx, v int64) (Change, []AuditRecord, error) {
		tag, err := tx.Exec(ctx, `DELETE FROM bank_allowlist WHERE bank = $1 AND entry_id = $2 AND tenant_id = $3`, bank, entryID, tenantID)
		if err != nil {
			return Change{}, nil, err
		}
		if tag.RowsAffected() == 0 {
			return Change{}, nil, fmt.Errorf("allow-list %s/%s for %s: %w", bank, entryID, tenantID, ErrNotFound)
		}
		return Change{Allowlist: true}, []AuditRecord{{EntryID: entryID, TenantID: tenantID, Action: "disallow", Actor: actor}}, nil
	})
}

// Allowlist returns a bank's allow-list rows (expired ones included).
func (s *Store) Allowlist(ctx context.Context, bank string) ([]Allow, error) {
	rows, err := s.pool.Query(ctx, `SELECT bank, entry_id, tenant_id::text, evidence, expires_at, created_by, created_at FROM bank_allowlist WHERE bank = $1 ORDER BY entry_id, tenant_id`, bank)
	if err != nil {
		return nil, fmt.Errorf("allow-list %s: %w", bank, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Allow, error) {
		var a Allow
		err := r.Scan(&a.Bank, &a.EntryID, &a.TenantID, &a.Evidence, &a.ExpiresAt, &a.CreatedBy, &a.CreatedAt)
		return a, err
	})
}

// Audit returns a bank's audit rows with version > since, oldest first.
func (s *Store) Audit(ctx context.Context, bank string, since int64) ([]AuditRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, bank, version, coalesce(entry_id, ''), coalesce(tenant_id::text, ''), action, actor, at, change
		FROM bank_audit WHERE bank = $1 AND version > $2 ORDER BY id`, bank, since)
	if err != nil {
		return nil, fmt.Errorf("audit %s: %w", bank, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditRecord, error) {
		var a AuditRecord
		var change []byte
		err := r.Scan(&a.ID, &a.Bank, &a.Version, &a.EntryID, &a.TenantID, &a.Action, &a.Actor, &a.At, &change)
		_ = json.Unmarshal(change, &a.Change)
		return a, err
	})
}
