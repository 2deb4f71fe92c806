// Package words screens text — read from a design by OCR or typed by the
// merchant in the listing — for the banks' word marks and the phrase bank's
// banned slogans and hate codes, and reports what it finds as typed
// findings (mustertype): a word mark is a "trademark" finding of the entry
// with Attrs.Match "text"; a phrase is a "phrase" finding with the
// jurisdictions that ban it. The text analyzers (listing, ocr) share it.
package words

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/bank/phrases"
	"github.com/muster-dev/muster/bank/textmatch"
	"github.com/muster-dev/muster/mustertype"
)

// Version is the screening logic's version (this package's and
// bank/textmatch's matching rules), stored with every analysis. words-2:
// symbolic marks ("1&1") need their own separators, letters spelled out
// one by one must be on one line, and a fuzzy match may not be mostly
// digits the mark does not have.
const Version = "words-2"

// Scores given to text matches. A distinctive or standalone mark read
// exactly scores like a certain logo match; edits lower it to review grade;
// a generic mark in running text ("Apple pie") scores below the policy's
// review threshold, so it is recorded but decides nothing alone.
const (
	ScoreExact   = 1.0
	ScoreLenient = 0.9
	ScoreFuzzy   = 0.7
	ScoreGeneric = 0.3
)

// Entries is where the screener reads the banks' word marks (bank.Store).
type Entries interface {
	TextEntries(ctx context.Context) ([]bank.TextEntry, map[string]int64, error)
}

// Config configures a Screener.
type Config struct {
	// WordsPath is the common-word list telling generic marks from
	// distinctive ones; default textmatch.DefaultWordsPath.
	WordsPath string
	// Logger receives reloads and warnings.
	Logger *slog.Logger
	// Now returns the time used for disabled-until.
	Now func() time.Time
	// ReloadEvery is how often a watching screener reloads even without
	// an announcement (missed announcements, disabled-until passing);
	// default 60 s.
	ReloadEvery time.Duration
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	if c.WordsPath == "" {
		c.WordsPath = textmatch.DefaultWordsPath
	}
	if c.ReloadEvery <= 0 {
		c.ReloadEvery = time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Screener matches text against the current banks. It is safe for
// concurrent use; Reload swaps in a new matcher atomically.
type Screener struct {
	cfg     Config
	src     Entries
	words   *textmatch.Words
	reload  sync.Mutex // serialises Reload
	mu      sync.RWMutex
	m       *textmatch.Matcher
	entries map[string]bank.TextEntry // key bank/id
	version map[string]string         // "bank:<name>" → version, "phrases" → hash
	missing []string                  // what is missing (no word list, no word marks)
}

// Open loads the word list and the banks' word marks and compiles the
// matcher.
func Open(ctx context.Context, src Entries, cfg Config) (*Screener, error) {
	cfg = cfg.WithDefaults()
	s := &Screener{cfg: cfg, src: src}
	w, err := textmatch.LoadWords(cfg.WordsPath)
	switch {
	case errors.Is(err, textmatch.ErrNoWords):
		// Without the list nothing is generic: every mark is treated as
		// distinctive (stricter, never laxer) and the gap is reported.
		cfg.Logger.Warn("no common-word list: every word mark is treated as distinctive", "err", err)
	case err != nil:
		return nil, fmt.Errorf("words: %w", err)
	default:
		s.words = w
	}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload re-reads the banks' word marks and recompiles the matcher.
func (s *Screener) Reload(ctx context.Context) error {
	s.reload.Lock()
	defer s.reload.Unlock()
	tes, versions, err := s.src.TextEntries(ctx)
	if err != nil {
		return fmt.Errorf("words: %w", err)
	}
	entries := map[string]bank.TextEntry{}
	var ms []textmatch.Entry
	for _, e := range tes {
		entries[e.Bank+"/"+e.ID] = e
		ms = append(ms, textmatch.Entry{ID: e.ID, Bank: e.Bank, Kind: textmatch.KindWordMark, Terms: e.WordMarks})
	}
	ph := phrases.Entries()
	ms = append(ms, ph...)
	m, err := textmatch.Compile(ms, textmatch.Config{Words: s.words})
	if err != nil {
		return fmt.Errorf("words: compile: %w", err)
	}
	ver := map[string]string{"phrases": phrasesVersion()}
	for name, v := range versions {
		ver["bank:"+name] = strconv.FormatInt(v, 10)
	}
	var missing []string
	if s.words == nil {
		missing = append(missing, "no common-word list (generic marks cannot be told apart)")
	}
	if len(tes) == 0 {
		missing = append(missing, "no word marks loaded")
	}
	s.mu.Lock()
	s.m, s.entries, s.version, s.missing = m, entries, ver, missing
	s.mu.Unlock()
	s.cfg.Logger.Info("word marks loaded", "entries", len(tes), "phrases", len(ph), "terms", m.Terms())
	return nil
}

// Watch reloads on every bank change announced on nc until ctx ends.
// Changes arriving while a reload runs are folded into the next one.
func (s *Screener) Watch(ctx context.Context, nc *nats.Conn) error {
	kick := make(chan struct{}, 1)
	sub, err := nc.Subscribe(bank.Subject, func(*nats.Msg) {
		select {
		case kick <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return fmt.Errorf("words: subscribe %s: %w", bank.Subject, err)
	}
	go func() {
		defer sub.Unsubscribe()
		tick := time.NewTicker(s.cfg.ReloadEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if err := s.Reload(ctx); err != nil && ctx.Err() == nil {
					s.cfg.Logger.Error("word marks not reloaded", "err", err)
				}
			case <-kick:
				if err := s.Reload(ctx); err != nil && ctx.Err() == nil {
					s.cfg.Logger.Error("word marks not reloaded", "err", err)
				}
			}
		}
	}()
	return nil
}

// Versions returns the versions of the banks the matcher was built from.
func (s *Screener) Versions() map[string]string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string]string, len(s.version))
	for k, v := range s.version {
		out[k] = v
	}
	return out
}

// Incomplete returns findings reporting what screening is missing (a
// missing signal holds the design for review).
func (s *Screener) Incomplete(analyzer string) []mustertype.Finding {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []mustertype.Finding
	for _, m := range s.missing {
		out = append(out, mustertype.Finding{Type: mustertype.FindingIncomplete, Analyzer: analyzer, Label: m})
	}
	return out
}

// Screen matches text (one field or one OCR line) and returns its findings,
// attributed to analyzer, with field naming where the text came from
// ("image", "title", "tags", "description") and box where it was read.
func (s *Screener) Screen(analyzer, field, text string, box *mustertype.Box) []mustertype.Finding {
	return s.ScreenWith(analyzer, field, text, func(int, int) *mustertype.Box { return box })
}

// ScreenWith is Screen for text put together from several places (the
// lines read from an image): box gives each match's box from its rune
// offsets in text (end exclusive).
func (s *Screener) ScreenWith(analyzer, field, text string, box func(start, end int) *mustertype.Box) []mustertype.Finding {
	s.mu.RLock()
	m, entries := s.m, s.entries
	s.mu.RUnlock()
	now := s.cfg.Now()
	var out []mustertype.Finding
	for _, mt := range m.Match(text) {
		f := mustertype.Finding{Analyzer: analyzer, Bank: mt.Bank, EntryID: mt.EntryID, Label: mt.Mark, Box: box(mt.Start, mt.End),
			Attrs: mustertype.Attrs{Match: "text", Field: field, Text: mt.Text, Method: string(mt.Method),
				Generic: mt.Generic, Standalone: mt.Standalone, BlockGrade: mt.BlockGrade()}}
		if mt.Method == textmatch.MethodFuzzy {
			d := mt.Distance
			f.Distance = &d
		}
		switch mt.Kind {
		case textmatch.KindPhrase:
			f.Type = mustertype.FindingPhrase
			f.Score = score(mt, false)
			if p := mt.Phrase; p != nil {
				f.Attrs.Jurisdictions = slices.Clone(p.Banned)
				f.Attrs.Category = p.Category
				f.Attrs.Ground = p.Ground
			}
		default:
			e, ok := entries[mt.Bank+"/"+mt.EntryID]
			if !ok || !e.Active(now) {
				continue
			}
			f.Type = mustertype.FindingTrademark
			if e.Kind == bank.KindCustom {
				f.Type = mustertype.FindingCustom
			}
			f.Score = score(mt, true)
			f.Attrs.Jurisdictions = nonNil(e.Jurisdictions)
			f.Attrs.Classes = e.Classes
			f.Attrs.Famous = e.Famous
			f.Attrs.Owner = e.Owner
			f.Attrs.WordMarks = e.WordMarks
		}
		out = append(out, f)
	}
	return out
}

func score(m textmatch.Match, mark bool) float64 {
	switch {
	case mark && m.Generic && !m.Standalone:
		return ScoreGeneric
	case m.Method == textmatch.MethodFuzzy:
		return ScoreFuzzy
	case m.Method == textmatch.MethodExact:
		return ScoreExact
	}
	return ScoreLenient
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// phrasesVersion is a hash of the compiled-in phrase bank: it changes when
// any entry does.
func phrasesVersion() string {
	all := phrases.All()
	sort.SliceStable(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	b, _ := json.Marshal(all)
	h := sha256.Sum256(b)
	return "phrases-" + hex.EncodeToString(h[:6])
}

// Join joins tags for screening: one line per tag, so a mark is standalone
// when it is a whole tag.
func Join(tags []string) string { return strings.Join(tags, "\n") }
