package bank

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/bank/match"
	"github.com/muster-dev/muster/internal/imaging"
)

// Set is the live, in-memory view of the banks a worker matches against:
// one matcher holding every entry's reference variants, the entries'
// metadata and the allow-lists. It loads everything once and then applies
// announced changes incrementally (only the changed entries are read).
type Set struct {
	store   *Store
	log     *slog.Logger
	matcher *match.Matcher

	applyMu sync.Mutex // serialises Load and Apply

	catchUpEvery time.Duration

	symbolBanks sync.Map // names of banks of kind symbol (see protected)

	mu      sync.RWMutex
	banks   map[string]Bank
	entries map[string]*Entry            // key bank/id; Prepared and ReferencePNG dropped
	allow   map[string]map[string]*Allow // key → tenant → allowance
}

// SetConfig configures a Set. The zero value means the defaults.
type SetConfig struct {
	Match  match.Config
	Logger *slog.Logger
	// CatchUpEvery is how often a watching set compares its bank versions
	// with the database and catches up on changes whose announcement it
	// missed (NATS delivers announcements at most once; a CLI without NATS
	// announces nothing). Default 30 s.
	CatchUpEvery time.Duration
}

// WithDefaults returns c with defaults filled in.
func (c SetConfig) WithDefaults() SetConfig {
	c.Match = c.Match.WithDefaults()
	if c.CatchUpEvery <= 0 {
		c.CatchUpEvery = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// NewSet returns an empty set reading from store; call Load.
func NewSet(store *Store, cfg SetConfig) (*Set, error) {
	cfg = cfg.WithDefaults()
	s := &Set{store: store, log: cfg.Logger, catchUpEvery: cfg.CatchUpEvery, banks: map[string]Bank{},
		entries: map[string]*Entry{}, allow: map[string]map[string]*Allow{}}
	cfg.Match.Protected = s.protected
	m, err := match.New(cfg.Match)
	if err != nil {
		return nil, err
	}
	s.matcher = m
	return s, nil
}

// reprepare prepares an entry's stored reference image again when its
// prepared form was encoded by another algorithm version (decodeErr), and
// writes the new form back so that other workers and later starts load it
// directly. Entries load after an upgrade without a re-import.
func (s *Set) reprepare(ctx context.Context, e *Entry, decodeErr error) (*match.Prepared, error) {
	if !errors.Is(decodeErr, match.ErrStaleEncoding) || len(e.ReferencePNG) == 0 {
		return nil, decodeErr
	}
	img, err := imaging.Decode(e.ReferencePNG, "image/png", imaging.Limits{})
	if err != nil {
		return nil, fmt.Errorf("reference image: %w", err)
	}
	if err := prepareShape(s.matcher, e, img.NRGBA); err != nil {
		return nil, err
	}
	var p match.Prepared
	if err := p.UnmarshalBinary(e.Prepared); err != nil {
		return nil, err
	}
	if err := s.store.SetPrepared(ctx, *e); err != nil {
		s.log.Warn("bank entry prepared again but not stored", "bank", e.Bank, "entry", e.ID, "err", err)
	}
	return &p, nil
}

// protected reports whether an entry key belongs to a symbol bank, whose
// entries the matcher must never suppress as generic or ambiguous. It reads
// symbolBanks (not s.mu), so the matcher may call it under its own lock.
func (s *Set) protected(key string) bool {
	bank, _ := SplitKey(key)
	_, ok := s.symbolBanks.Load(bank)
	return ok
}

// Kind returns a bank's kind ("" for an unknown bank).
func (s *Set) Kind(bank string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if b, ok := s.banks[bank]; ok {
		return b.Kind
	}
	return ""
}

// Matcher exposes the set's matcher (e.g. to install a negative bank).
func (s *Set) Matcher() *match.Matcher { return s.matcher }

func key(bank, id string) string { return bank + "/" + id }

// SplitKey splits a matcher key into the bank and the entry id.
func SplitKey(k string) (bank, id string) {
	bank, id, _ = strings.Cut(k, "/")
	return bank, id
}

// Load reads every bank, entry and allow-list row.
func (s *Set) Load(ctx context.Context) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	banks, err := s.store.Banks(ctx)
	if err != nil {
		return err
	}
	for _, b := range banks {
		if err := s.refresh(ctx, b, nil, true); err != nil {
			return err
		}
	}
	return nil
}

// Versions returns the loaded version of every bank.
func (s *Set) Versions() map[string]int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]int64{}
	for n, b := range s.banks {
		out[n] = b.Version
	}
	return out
}

// ActiveByKind counts the loaded entries that are active at now, per bank
// kind (trademark, symbol, custom). The bank analyzer reports a missing
// signal when a kind the policy relies on has none.
func (s *Set) ActiveByKind(now time.Time) map[string]int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]int{}
	for k, e := range s.entries {
		b, _ := SplitKey(k)
		if e.Active(now) {
			out[s.banks[b].Kind]++
		}
	}
	return out
}

// Entry returns the metadata of a loaded entry.
func (s *Set) Entry(bank, id string) (Entry, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.entries[key(bank, id)]
	if !ok {
		return Entry{}, false
	}
	return *e, true
}

// Allowed reports whether tenant has a valid allowance for the entry.
func (s *Set) Allowed(bank, id, tenant string, now time.Time) bool {
	if tenant == "" {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.allow[key(bank, id)][tenant]
	return ok && a.Valid(now)
}

// Apply brings one bank up to date with an announced change. If the change
// follows the loaded version directly only its entries are read; if changes
// were missed, the entries changed since the loaded version are found in the
// audit trail. Changes already applied are ignored.
func (s *Set) Apply(ctx context.Context, ch Change) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.RLock()
	cur, known := s.banks[ch.Bank]
	s.mu.RUnlock()
	if known && ch.Version <= cur.Version {
		return nil
	}
	b, err := s.store.Bank(ctx, ch.Bank)
	if err != nil {
		return err
	}
	if !known {
		return s.refresh(ctx, b, nil, true)
	}
	ids := ch.EntryIDs
	allow := ch.Allowlist
	if ch.Version != cur.Version+1 || b.Version != ch.Version || ch.catchUp {
		audits, err := s.store.Audit(ctx, ch.Bank, cur.Version)
		if err != nil {
			return err
		}
		set := map[string]bool{}
		for _, a := range audits {
			if a.EntryID != "" && a.Action != "allow" && a.Action != "disallow" {
				set[a.EntryID] = true
			}
			if a.Action == "allow" || a.Action == "disallow" || a.Action == "delete" {
				allow = true
			}
		}
		ids = slices.Sorted(maps.Keys(set))
	}
	return s.refresh(ctx, b, ids, allow)
}

// refresh reloads the given entries of bank b (all when ids is nil) and,
// if allow, its allow-list; then records b's version.
func (s *Set) refresh(ctx context.Context, b Bank, ids []string, allow bool) error {
	start := time.Now()
	if b.Kind == KindSymbol {
		s.symbolBanks.Store(b.Name, true) // before its entries reach the matcher
	}
	entries, err := s.store.Entries(ctx, b.Name, ids)
	if err != nil {
		return err
	}
	present := map[string]bool{}
	reprepared := 0
	defer func() {
		if reprepared > 0 {
			s.log.Info("bank entries prepared again for the current matching algorithm", "bank", b.Name, "entries", reprepared, "algorithm", match.Version)
		}
	}()
	for i := range entries {
		e := &entries[i]
		present[e.ID] = true
		var p match.Prepared
		if err := p.UnmarshalBinary(e.Prepared); err != nil {
			pp, err := s.reprepare(ctx, e, err)
			if err != nil {
				s.log.Warn("bank entry not loaded", "bank", b.Name, "entry", e.ID, "err", err)
				continue
			}
			p = *pp
			reprepared++
		}
		s.matcher.AddPrepared(p.WithKey(key(b.Name, e.ID)).WithThreshold(b.Threshold))
		e.Prepared, e.ReferencePNG = nil, nil
	}
	var allows []Allow
	if allow {
		if allows, err = s.store.Allowlist(ctx, b.Name); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ids == nil { // full load: drop what is gone
		for k := range s.entries {
			if bn, id := SplitKey(k); bn == b.Name && !present[id] {
				delete(s.entries, k)
				s.matcher.Remove(k)
			}
		}
	}
	for _, id := range ids {
		if !present[id] {
			delete(s.entries, key(b.Name, id))
			s.matcher.Remove(key(b.Name, id))
		}
	}
	for i := range entries {
		e := entries[i]
		s.entries[key(b.Name, e.ID)] = &e
	}
	if old, ok := s.banks[b.Name]; ok && old.Threshold != b.Threshold {
		for k := range s.entries {
			if bn, _ := SplitKey(k); bn == b.Name {
				s.matcher.SetThreshold(k, b.Threshold)
			}
		}
	}
	if allow {
		for k := range s.allow {
			if bn, _ := SplitKey(k); bn == b.Name {
				delete(s.allow, k)
			}
		}
		for i := range allows {
			a := allows[i]
			k := key(a.Bank, a.EntryID)
			if s.allow[k] == nil {
				s.allow[k] = map[string]*Allow{}
			}
			s.allow[k][a.TenantID] = &a
		}
	}
	s.banks[b.Name] = b
	s.log.Debug("bank applied", "bank", b.Name, "version", b.Version, "entries", len(entries), "full", ids == nil, "took", time.Since(start))
	return nil
}

// Watch subscribes to Subject and applies every announced change until ctx
// ends. Each worker reads only the entries a change names, so a change does
// not make every worker reload everything at once.
func (s *Set) Watch(ctx context.Context, nc *nats.Conn) error {
	ch := make(chan *nats.Msg, 256)
	sub, err := nc.ChanSubscribe(Subject, ch)
	if err != nil {
		return fmt.Errorf("bank: subscribe %s: %w", Subject, err)
	}
	go func() {
		defer sub.Unsubscribe()
		tick := time.NewTicker(s.catchUpEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if err := s.CatchUp(ctx); err != nil && ctx.Err() == nil {
					s.log.Error("bank catch-up", "err", err)
				}
			case m := <-ch:
				var c Change
				if err := json.Unmarshal(m.Data, &c); err != nil {
					s.log.Warn("bad bank change message", "err", err)
					continue
				}
				if err := s.Apply(ctx, c); err != nil && ctx.Err() == nil {
					s.log.Error("bank change not applied", "bank", c.Bank, "version", c.Version, "err", err)
				}
			}
		}
	}()
	return nil
}

// CatchUp compares every bank's version in the database with the loaded
// one and applies what was missed (from the audit trail), as if the
// announcements had arrived. Watch calls it periodically.
func (s *Set) CatchUp(ctx context.Context) error {
	banks, err := s.store.Banks(ctx)
	if err != nil {
		return err
	}
	for _, b := range banks {
		s.mu.RLock()
		cur, known := s.banks[b.Name]
		s.mu.RUnlock()
		if known && b.Version <= cur.Version {
			continue
		}
		if err := s.Apply(ctx, Change{Bank: b.Name, Version: b.Version, catchUp: true}); err != nil {
			return fmt.Errorf("catch up %s: %w", b.Name, err)
		}
		s.log.Info("bank caught up without an announcement", "bank", b.Name, "version", b.Version)
	}
	return nil
}

// NATSAnnouncer publishes changes on Subject with a NATS connection.
type NATSAnnouncer struct{ Conn *nats.Conn }

// Announce implements Announcer.
func (a NATSAnnouncer) Announce(ctx context.Context, c Change) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := a.Conn.Publish(Subject, b); err != nil {
		return fmt.Errorf("announce %s v%d: %w", c.Bank, c.Version, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	return a.Conn.FlushWithContext(ctx)
}
