// Package bank holds Muster's trademark, symbol and custom banks: the types,
// the PostgreSQL store (versioned, audited, with per-tenant allow-lists),
// the live in-memory set that running matchers keep up to date from change
// announcements on NATS, the importers, and the "bank" analyzer that finds
// bank entries inside designs (see docs/bank.md).
package bank

import (
	"errors"
	"fmt"
	"github.com/muster-dev/muster/bank/match"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Kinds of bank.
const (
	KindTrademark = "trademark"
	KindSymbol    = "symbol"
	KindCustom    = "custom"
)

// Default bank names.
const (
	SimpleIconsBank = "simple-icons"
	SymbolsBank     = "symbols"
)

// Subject is the NATS subject bank changes are announced on.
const Subject = "muster.bank.changed"

// Errors callers branch on.
var (
	ErrNotFound = errors.New("bank: not found")
	ErrInvalid  = errors.New("bank: invalid")
)

// Bank is a named, versioned set of entries of one kind.
type Bank struct {
	Name        string    `json:"name"`
	Kind        string    `json:"kind"`
	Version     int64     `json:"version"`
	Threshold   float64   `json:"threshold"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Form is a symbol entry's form data.
type Form struct {
	Symbol      string  `json:"symbol,omitempty"`
	Orientation string  `json:"orientation,omitempty"`
	TiltDeg     float64 `json:"tilt_deg"`
	Context     string  `json:"context,omitempty"`
	Religious   bool    `json:"religious"`
}

// Entry is one reference of a bank.
type Entry struct {
	Bank          string     `json:"bank"`
	ID            string     `json:"id"`
	Label         string     `json:"label"`
	Owner         string     `json:"owner"`
	Jurisdictions []string   `json:"jurisdictions"`
	Classes       []int      `json:"classes"`
	Famous        bool       `json:"famous"`
	WordMarks     []string   `json:"word_marks"`
	Source        string     `json:"source"`
	Form          Form       `json:"form"`
	Notes         string     `json:"notes"`
	Disabled      bool       `json:"disabled"`
	DisabledUntil *time.Time `json:"disabled_until,omitempty"`
	DisabledNote  string     `json:"disabled_note,omitempty"`
	// ReferencePNG is the reference image; Prepared is the matcher's
	// encoding of it (variant hashes and templates), Hashes the hashes alone.
	ReferencePNG []byte    `json:"-"`
	Prepared     []byte    `json:"-"`
	Hashes       []uint64  `json:"-"`
	Algorithm    string    `json:"algorithm"`
	Version      int64     `json:"version"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Active reports whether the entry is matched at time now: not disabled, or
// disabled only until a time that has passed.
func (e *Entry) Active(now time.Time) bool {
	return !e.Disabled || (e.DisabledUntil != nil && !now.Before(*e.DisabledUntil))
}

// Allow is an allow-list entry: a tenant that owns or licenses a mark.
type Allow struct {
	Bank      string     `json:"bank"`
	EntryID   string     `json:"entry_id"`
	TenantID  string     `json:"tenant_id"`
	Evidence  string     `json:"evidence"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
}

// Valid reports whether the allowance holds at time now.
func (a *Allow) Valid(now time.Time) bool { return a.ExpiresAt == nil || now.Before(*a.ExpiresAt) }

// Change is what one store operation changed; it is announced on Subject.
type Change struct {
	Bank     string   `json:"bank"`
	Version  int64    `json:"version"`
	EntryIDs []string `json:"entry_ids,omitempty"`
	// Allowlist is true when allow-list rows changed.
	Allowlist bool `json:"allowlist,omitempty"`
	// BankSettings is true when the bank's own row (threshold…) changed.
	BankSettings bool `json:"bank_settings,omitempty"`
	// catchUp makes Apply read what changed from the audit trail.
	catchUp bool
}

// AuditRecord is one row of a bank's audit trail.
type AuditRecord struct {
	ID       int64          `json:"id"`
	Bank     string         `json:"bank"`
	Version  int64          `json:"version"`
	EntryID  string         `json:"entry_id,omitempty"`
	TenantID string         `json:"tenant_id,omitempty"`
	Action   string         `json:"action"`
	Actor    string         `json:"actor"`
	At       time.Time      `json:"at"`
	Change   map[string]any `json:"change"`
}

var (
	nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	idRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9._:-]*$`)
	isoRE  = regexp.MustCompile(`^[A-Z]{2}(-[A-Z0-9]{1,3})?$`)
	wipoRE = regexp.MustCompile(`^WIPO:[A-Z]{2}(,[A-Z]{2})*$`)
)

// ValidateBank checks a bank before it is stored.
func ValidateBank(b *Bank) error {
	if !nameRE.MatchString(b.Name) {
		return fmt.Errorf("%w: bank name %q (lower-case letters, digits, . _ -)", ErrInvalid, b.Name)
	}
	if !slices.Contains([]string{KindTrademark, KindSymbol, KindCustom}, b.Kind) {
		return fmt.Errorf("%w: bank kind %q (trademark, symbol or custom)", ErrInvalid, b.Kind)
	}
	if b.Threshold < 0 || b.Threshold > 1 {
		return fmt.Errorf("%w: threshold %g outside (0,1]", ErrInvalid, b.Threshold)
	}
	return nil
}

// ValidateEntry checks an entry's metadata before it is stored.
func ValidateEntry(e *Entry) error {
	if !idRE.MatchString(e.ID) {
		return fmt.Errorf("%w: entry id %q", ErrInvalid, e.ID)
	}
	if strings.TrimSpace(e.Label) == "" {
		return fmt.Errorf("%w: entry %s: empty label", ErrInvalid, e.ID)
	}
	for _, j := range e.Jurisdictions {
		if j != "EU" && !isoRE.MatchString(j) && !wipoRE.MatchString(j) {
			return fmt.Errorf("%w: entry %s: jurisdiction %q (ISO code, EU or WIPO:<designations>)", ErrInvalid, e.ID, j)
		}
	}
	for _, c := range e.Classes {
		if c < 1 || c > 45 {
			return fmt.Errorf("%w: entry %s: Nice class %d outside 1..45", ErrInvalid, e.ID, c)
		}
	}
	return nil
}

// DefaultTrademarkJurisdictions and DefaultTrademarkClasses are given to the
// simple-icons seed entries, since the package carries no registration data:
// US and EU, Nice classes 25 (apparel), 21 (mugs) and 16 (posters, stickers).
var (
	DefaultTrademarkJurisdictions = []string{"US", "EU"}
	DefaultTrademarkClasses       = []int{25, 21, 16}
)

// Version is the version of bank matching: the analyzer's finding logic plus
// the matching algorithm. The bank analyzer (analyzers/banks) reports it,
// and drawn entries record it as their source.
const Version = "bank-1+" + match.Version
