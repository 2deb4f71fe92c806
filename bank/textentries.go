package bank

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// TextEntry is what text screening needs of an entry: its word marks and
// the registration data the policy decides on, without the reference image
// or hashes.
type TextEntry struct {
	Bank, Kind, ID, Label, Owner string
	Jurisdictions                []string
	Classes                      []int
	Famous                       bool
	WordMarks                    []string
	Disabled                     bool
	DisabledUntil                *time.Time
}

// Active reports whether the entry is matched at now.
func (e TextEntry) Active(now time.Time) bool {
	return !e.Disabled || (e.DisabledUntil != nil && !now.Before(*e.DisabledUntil))
}

// TextEntries returns every entry that has word marks, with the versions of
// the banks they were read at (for the analysis's versions).
func (s *Store) TextEntries(ctx context.Context) ([]TextEntry, map[string]int64, error) {
	var out []TextEntry
	versions := map[string]int64{}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT name, version FROM banks`)
		if err != nil {
			return err
		}
		var name string
		var v int64
		if _, err := pgx.ForEachRow(rows, []any{&name, &v}, func() error { versions[name] = v; return nil }); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT e.bank, b.kind, e.id, e.label, e.owner, e.jurisdictions, e.classes, e.famous, e.word_marks,
				e.disabled, e.disabled_until
			FROM bank_entries e JOIN banks b ON b.name = e.bank
			WHERE cardinality(e.word_marks) > 0 ORDER BY e.bank, e.id`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (TextEntry, error) {
			var e TextEntry
			err := r.Scan(&e.Bank, &e.Kind, &e.ID, &e.Label, &e.Owner, &e.Jurisdictions, &e.Classes, &e.Famous, &e.WordMarks, &e.Disabled, &e.DisabledUntil)
			return e, err
		})
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("bank: text entries: %w", err)
	}
	return out, versions, nil
}

// SetWordMarks replaces the word marks of the given entries of one bank in
// one version (entries whose marks are unchanged or that do not exist are
// skipped), with an audit row per entry. It returns the zero Change when
// nothing changed.
func (s *Store) SetWordMarks(ctx context.Context, bank string, marks map[string][]string, actor string) (Change, error) {
	current := map[string][]string{}
	rows, err := s.pool.Query(ctx, `SELECT id, word_marks FROM bank_entries WHERE bank = $1`, bank)
	if err != nil {
		return Change{}, fmt.Errorf("bank %s: word marks: %w", bank, err)
	}
	var id string
	var wm []string
	if _, err := pgx.ForEachRow(rows, []any{&id, &wm}, func() error { current[id] = slices.Clone(wm); return nil }); err != nil {
		return Change{}, fmt.Errorf("bank %s: word marks: %w", bank, err)
	}
	var ids []string
	for _, id := range slices.Sorted(maps.Keys(marks)) {
		if cur, ok := current[id]; ok && !slices.Equal(cur, marks[id]) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return Change{}, nil
	}
	return s.tx(ctx, bank, func(tx pgx.Tx, v int64) (Change, []AuditRecord, error) {
		var ch Change
		var audits []AuditRecord
		for _, id := range ids {
			if _, err := tx.Exec(ctx, `UPDATE bank_entries SET word_marks = $3, version = $4, updated_at = now() WHERE bank = $1 AND id = $2`,
				bank, id, nonNil(marks[id]), v); err != nil {
				return ch, nil, fmt.Errorf("entry %s: %w", id, err)
			}
			ch.EntryIDs = append(ch.EntryIDs, id)
			audits = append(audits, AuditRecord{EntryID: id, Action: "update", Actor: actor, Change: map[string]any{"word_marks": nonNil(marks[id])}})
		}
		return ch, audits, nil
	})
}
