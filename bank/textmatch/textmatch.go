// Package textmatch finds word marks (brand names) and banned phrases (Nazi
// slogans, hate codes) in text: text read from a design by OCR, or typed by
// a merchant into a listing's title, tags and description.
//
// Text from OCR and from merchants is hostile to plain string search, so a
// Matcher compares several normalisations of the text with the same
// normalisations of every term, strictest first, and reports which one
// matched:
//
//   - exact: Unicode NFKD with combining marks dropped, full case folding
//     (golang.org/x/text: "Pokémon" = "POKEMON", "heißt" = "HEISST");
//   - skeleton: the UTS #39 confusable skeleton (Cyrillic "АDIDAS", "rn" for
//     "m", 0 for O, 1 and I for l);
//   - ocr_confusion: OCR and leetspeak confusions (1/I/l/|/!, 0/O, 5/S/$,
//     8/B, 2/Z, 3/E, 4/A/@, 7/T, 9/G, vv/w, cl/d);
//   - spaced: a term spelled out in single letters between separators
//     ("N.I.K.E", "N I K E", "n-i-k-e"); Spaced is also set on a skeleton
//     or ocr_confusion match spelled out this way;
//   - fuzzy: a bounded edit distance on the ocr_confusion form, scaled by
//     length (none for terms under Config.FuzzyMinRunes letters).
//
// Matches are whole words: a term must start and end on a word boundary of
// the text ("88" in "1988" is no match, nor "NIKE" in "NIKEL"; a merchant's
// run-together "nikeshoes" is a known miss). Inside a match the text may
// split words where the term does ("Coca Cola", "Coca-Cola") or not at all
// ("CocaCola"), but nowhere else, unless it spells the term out letter by
// letter.
//
// Every term is found in one Aho–Corasick pass per normalisation; the fuzzy
// pass looks word windows up in a deletion-neighbourhood index, so the cost
// grows with the text, not with the number of terms.
//
// Genericness: with a word list (Debian wamerican, LoadWords), a match of a
// mark whose every word is an ordinary word (Apple, Shell, Dove) is marked
// Generic, and one that is the whole line is marked Standalone, so a policy
// can block a standalone "APPLE" and only review "apple pie recipe".
// Without a word list nothing is generic: the matcher fails closed.
//
// A Matcher is immutable after Compile and safe for concurrent use; banks
// change by compiling a new one.
package textmatch

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Entry kinds.
const (
	KindWordMark = "word_mark" // a brand name or alias of a trademark entry
	KindPhrase   = "phrase"    // a banned slogan, greeting or hate code
)

// Phrase categories (PhraseInfo.Category).
const (
	CategorySlogan   = "slogan"   // a slogan of a banned organisation
	CategoryGreeting = "greeting" // a banned greeting
	CategoryCode     = "code"     // a numeric or abbreviated hate code: usually review, not block
)

// PhraseInfo is the jurisdiction data of a phrase entry, passed through to
// its matches for the policy to decide per market. It must not be modified
// after Compile.
type PhraseInfo struct {
	Category string   `json:"category"`           // CategorySlogan, CategoryGreeting or CategoryCode
	Banned   []string `json:"banned,omitempty"`   // jurisdictions (ISO 3166) whose law bans it: block there
	Ground   string   `json:"ground,omitempty"`   // legal ground, e.g. "DE StGB §86a"
	Review   bool     `json:"review"`             // review everywhere else (platform terms)
	Sources  []string `json:"sources,omitempty"`  // URLs
	Language string   `json:"language,omitempty"` // BCP 47 tag of the phrase
}

// Entry is one bank entry to match: a trademark entry with its word marks,
// or a phrase entry with its spellings.
type Entry struct {
	ID    string   // entry id in its bank
	Bank  string   // bank name
	Kind  string   // KindWordMark or KindPhrase
	Terms []string // the mark and its aliases, or the phrase's spellings
	// Strict entries match only in the exact form, as whole words: no
	// confusables, OCR confusions, spacing or edits. Use it for codes such
	// as "88", whose OCR forms ("BB") are ordinary.
	Strict bool
	// StandaloneOnly entries match only as the whole of a line: numeric
	// codes such as "18" or "88" are ordinary numbers inside a phrase
	// ("18 x 24 poster", "Class of 88").
	StandaloneOnly bool
	Phrase         *PhraseInfo // jurisdiction data of a phrase; nil for word marks
}

// Method says which normalisation found a match.
type Method string

// Methods, from the strictest to the most lenient.
const (
	MethodExact        Method = "exact"
	MethodSpaced       Method = "spaced"
	MethodSkeleton     Method = "skeleton"
	MethodOCRConfusion Method = "ocr_confusion"
	MethodFuzzy        Method = "fuzzy"
)

// Match is one occurrence of an entry's term in a text.
type Match struct {
	EntryID string `json:"entry_id"`
	Bank    string `json:"bank"`
	Kind    string `json:"kind"` // KindWordMark or KindPhrase
	Mark    string `json:"mark"` // the term as written in the entry
	// Start and End are rune offsets of the match in the text (End
	// exclusive); Text is the text there, as given.
	Start    int    `json:"start"`
	End      int    `json:"end"`
	Text     string `json:"text"`
	Method   Method `json:"method"`
	Distance int    `json:"distance,omitempty"` // edits, for MethodFuzzy
	Spaced   bool   `json:"spaced,omitempty"`   // spelled out letter by letter
	// Generic: every word of the mark is an ordinary word (needs a word
	// list; always false without one).
	Generic bool `json:"generic"`
	// Standalone: the match is the whole of every line it is on.
	Standalone bool        `json:"standalone"`
	Phrase     *PhraseInfo `json:"phrase,omitempty"`
}

// BlockGrade reports whether a policy may block on this match alone (in the
// phrase's banned jurisdictions, or where the mark is protected): a slogan
// or greeting that some jurisdiction bans, found without edits, or a word
// mark found without edits that is distinctive or stands alone. Codes,
// phrases no law bans, fuzzy matches and generic marks in running text are
// review grade.
func (m Match) BlockGrade() bool {
	if m.Method == MethodFuzzy {
		return false
	}
	if m.Kind == KindPhrase {
		return m.Phrase != nil && m.Phrase.Category != CategoryCode && len(m.Phrase.Banned) > 0
	}
	return !m.Generic || m.Standalone
}

// Config tunes a Matcher. The zero value means the defaults.
type Config struct {
	// Words is the dictionary for genericness and for keeping fuzzy
	// matching off ordinary words (LoadWords). Nil: no dictionary, every
	// mark is distinctive (fail closed).
	Words *Words
	// MinRunes: terms shorter than this (folded letters and digits) are
	// not compiled unless their entry is Strict; default 2 (no one-letter
	// marks such as "C" or "X"). See Matcher.Skipped.
	MinRunes int
	// OCRMinRunes: the shortest term matched with OCR confusions or
	// spelled out; default 4 (shorter ones match exact and skeleton forms only).
	OCRMinRunes int
	// FuzzyMinRunes: the shortest term matched with one edit; default 5.
	FuzzyMinRunes int
	// FuzzyLongRunes: the shortest term matched with two edits; default 9.
	FuzzyLongRunes int
	// NoFuzzy turns the fuzzy pass off.
	NoFuzzy bool
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.MinRunes == 0 {
		c.MinRunes = 2
	}
	if c.OCRMinRunes == 0 {
		c.OCRMinRunes = 4
	}
	if c.FuzzyMinRunes == 0 {
		c.FuzzyMinRunes = 5
	}
	if c.FuzzyLongRunes == 0 {
		c.FuzzyLongRunes = 9
	}
	return c
}

// ErrInvalid is wrapped by the errors of Validate and Compile.
var ErrInvalid = errors.New("textmatch: invalid")

// Validate checks a configuration (after WithDefaults).
func (c Config) Validate() error {
	switch {
	case c.MinRunes < 1:
		return fmt.Errorf("%w: MinRunes %d < 1", ErrInvalid, c.MinRunes)
	case c.OCRMinRunes < c.MinRunes:
		return fmt.Errorf("%w: OCRMinRunes %d < MinRunes %d", ErrInvalid, c.OCRMinRunes, c.MinRunes)
	case c.FuzzyMinRunes < 3:
		return fmt.Errorf("%w: FuzzyMinRunes %d < 3 (one edit on a shorter word matches everything)", ErrInvalid, c.FuzzyMinRunes)
	case c.FuzzyLongRunes <= c.FuzzyMinRunes:
		return fmt.Errorf("%w: FuzzyLongRunes %d ≤ FuzzyMinRunes %d", ErrInvalid, c.FuzzyLongRunes, c.FuzzyMinRunes)
	}
	return nil
}

// term is one compiled spelling of an entry.
type term struct {
	entry    int32
	text     string
	nTokens  int
	bounds   [numLevels][]int32 // word starts inside the term, per level (relative rune offsets)
	maxLevel level              // the most lenient normalisation allowed
	spaced   bool               // may be spelled out letter by letter
	generic  bool
	// seps are the separators between the words of a symbolic word mark
	// (mostly digits: "1&1", "1.1.1.1"), folded and without spaces; the
	// text must put the same ones between the same words ("1:1", "1-1"
	// and "11" are not 1&1). Nil for every other term.
	seps []string
	// digits is the number of digits in the term (folded).
	digits int
}

// Skip is a term that Compile left out, and why.
type Skip struct {
	EntryID, Term, Reason string
}

// Matcher finds the terms of a set of entries in texts. It is immutable and
// safe for concurrent use.
type Matcher struct {
	cfg     Config
	norm    *normalizer
	entries []Entry
	terms   []term
	ac      [numLevels]*automaton
	pats    [numLevels][][]int32 // pattern id → terms, per level
	fz      *fuzzyIndex          // nil when no term is long enough or NoFuzzy
	fzTerms [][]int32            // fuzzy pattern id → terms
	maxTok  int                  // most words in a fuzzy term
	// fzMaxLen[k] and fzLongK[k]: longest fuzzy pattern of ≥ k words, and
	// shortest such with a two-edit budget (1<<30 if none).
	fzMaxLen, fzLongK []int
	skipped           []Skip
}

// Compile builds a Matcher for entries. Entry ids must be unique within a
// bank; terms too short to match safely are skipped (see Skipped).
func Compile(entries []Entry, cfg Config) (*Matcher, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Matcher{cfg: cfg, norm: newNormalizer(), entries: slices.Clone(entries)}
	seen := map[[2]string]bool{}
	var patterns [numLevels][][]rune
	patIdx := [numLevels]map[string]int32{{}, {}, {}}
	fzIdx := map[string]int32{}
	var fz *fuzzyIndex
	if !cfg.NoFuzzy {
		fz = newFuzzyIndex()
	}
	for ei, e := range m.entries {
		switch {
		case e.ID == "":
			return nil, fmt.Errorf("%w: entry %d has no id", ErrInvalid, ei)
		case e.Kind != KindWordMark && e.Kind != KindPhrase:
			return nil, fmt.Errorf("%w: entry %s/%s: kind %q", ErrInvalid, e.Bank, e.ID, e.Kind)
		case seen[[2]string{e.Bank, e.ID}]:
			return nil, fmt.Errorf("%w: entry %s/%s appears twice", ErrInvalid, e.Bank, e.ID)
		}
		seen[[2]string{e.Bank, e.ID}] = true
		m.entries[ei].Terms = slices.Clone(e.Terms)
		dup := map[string]bool{}
		for _, text := range e.Terms {
			tk := m.norm.tokenize(text)
			fold := tk.levels[levelFold].runes
			key := string(fold) + "\x00" + fmt.Sprint(tk.levels[levelFold].first)
			if dup[key] {
				continue // the same term up to case and diacritics
			}
			dup[key] = true
			if len(fold) == 0 || (!e.Strict && len(fold) < cfg.MinRunes) {
				m.skipped = append(m.skipped, Skip{EntryID: e.ID, Term: text, Reason: fmt.Sprintf("shorter than %d letters", cfg.MinRunes)})
				continue
			}
			t := term{entry: int32(ei), text: text, nTokens: len(tk.toks), maxLevel: levelOCR, digits: countDigits(fold)}
			switch {
			case e.Strict:
				t.maxLevel = levelFold
			case len(fold) < cfg.OCRMinRunes:
				t.maxLevel = levelSkeleton
			}
			t.spaced = !e.Strict && len(fold) >= min(3, cfg.OCRMinRunes)
			if e.Kind == KindWordMark && symbolic(tk) {
				t.seps = separators(tk, []rune(text))
				t.spaced = false
			}
			if cfg.Words != nil {
				t.generic = true
				for k := range tk.toks {
					s := &tk.levels[levelFold]
					if !cfg.Words.Contains(string(s.runes[s.first[k]:s.first[k+1]])) {
						t.generic = false
					}
				}
			}
			ti := int32(len(m.terms))
			for l := levelFold; l <= t.maxLevel; l++ {
				s := &tk.levels[l]
				t.bounds[l] = slices.Clone(s.first[1 : len(s.first)-1])
				p := string(s.runes)
				id, ok := patIdx[l][p]
				if !ok {
					id = int32(len(patterns[l]))
					patIdx[l][p] = id
					patterns[l] = append(patterns[l], slices.Clone(s.runes))
					m.pats[l] = append(m.pats[l], nil)
				}
				m.pats[l][id] = append(m.pats[l][id], ti)
			}
			// Generic marks get no fuzzy matching: a misspelt ordinary word is
			// noise, and near-misses of ordinary words are everywhere; nor do
			// symbolic ones (an edit of a number is another number).
			if fz != nil && t.maxLevel == levelOCR && !t.generic && t.seps == nil && len(fold) >= cfg.FuzzyMinRunes {
				budget := 1
				if len(fold) >= cfg.FuzzyLongRunes {
					budget = 2
				}
				ocr := tk.levels[levelOCR].runes
				id, ok := fzIdx[string(ocr)]
				if !ok {
					id = fz.add(slices.Clone(ocr), budget)
					fzIdx[string(ocr)] = id
					m.fzTerms = append(m.fzTerms, nil)
				}
				m.fzTerms[id] = append(m.fzTerms[id], ti)
				m.maxTok = max(m.maxTok, t.nTokens)
			}
			m.terms = append(m.terms, t)
		}
	}
	for l := range numLevels {
		m.ac[l] = buildAutomaton(patterns[l])
	}
	if fz != nil && len(fz.patterns) > 0 {
		fz.seal()
		m.fz = fz
		// The longest fuzzy pattern, and the shortest with two edits, per
		// number of words: a window of k words is compared only with terms
		// of at least k words.
		m.fzMaxLen = make([]int, m.maxTok+2)
		m.fzLongK = make([]int, m.maxTok+2)
		for k := range m.fzLongK {
			m.fzLongK[k] = 1 << 30
		}
		for id, tis := range m.fzTerms {
			n := len(fz.patterns[id])
			for _, ti := range tis {
				for k := 1; k <= m.terms[ti].nTokens; k++ {
					m.fzMaxLen[k] = max(m.fzMaxLen[k], n)
					if fz.budget[id] == 2 {
						m.fzLongK[k] = min(m.fzLongK[k], n)
					}
				}
			}
		}
	}
	return m, nil
}

// Skipped lists the terms Compile left out.
func (m *Matcher) Skipped() []Skip { return slices.Clone(m.skipped) }

// Terms is the number of compiled terms.
func (m *Matcher) Terms() int { return len(m.terms) }

// HasWords reports whether the matcher has a word list (genericness and
// the fuzzy dictionary filter work only with one).
func (m *Matcher) HasWords() bool { return m.cfg.Words != nil }

// candidate is a match before deduplication: a term over words ta..tb.
type candidate struct {
	term   int32
	ta, tb int32 // first and last token
	method Method
	rank   int // lower is stricter
	dist   int
	spaced bool
}

func methodRank(m Method) int {
	return slices.Index([]Method{MethodExact, MethodSpaced, MethodSkeleton, MethodOCRConfusion, MethodFuzzy}, m)
}

// Match returns every match of an entry's term in text, ordered by
// position: for each entry and span the strictest method, and no span of an
// entry inside a longer span of the same entry.
func (m *Matcher) Match(text string) []Match {
	tk := m.norm.tokenize(text)
	if len(tk.toks) == 0 {
		return nil
	}
	var rs []rune // the text's runes, for separators; made when needed
	best := map[[3]int32]candidate{}
	add := func(c candidate) {
		k := [3]int32{m.terms[c.term].entry, c.ta, c.tb}
		if old, ok := best[k]; ok && (old.rank < c.rank || old.rank == c.rank && old.dist <= c.dist) {
			return
		}
		best[k] = c
	}
	for l := range numLevels {
		s := &tk.levels[l]
		m.ac[l].scan(s.runes, func(p int32, a, b int) {
			ta, tb := s.tok[a], s.tok[b-1]
			if int(s.first[ta]) != a || int(s.first[tb+1]) != b {
				return // not on word boundaries
			}
			for _, ti := range m.pats[l][p] {
				t := &m.terms[ti]
				if level(l) > t.maxLevel {
					continue
				}
				if t.seps != nil {
					if rs == nil {
						rs = []rune(text)
					}
					if !sameSeparators(tk, rs, ta, tb, t.seps) {
						continue
					}
				}
				spaced := false
				if !boundsWithin(s, ta, tb, t.bounds[l]) {
					if !t.spaced || !allSingle(tk, ta, tb) {
						continue
					}
					spaced = true
				}
				method := []Method{MethodExact, MethodSkeleton, MethodOCRConfusion}[l]
				if spaced && l == levelFold {
					method = MethodSpaced
				}
				add(candidate{term: ti, ta: ta, tb: tb, method: method, rank: methodRank(method), spaced: spaced})
			}
		})
	}
	if m.fz != nil {
		m.fuzzy(tk, add)
	}
	return m.build(text, tk, best)
}

// boundsWithin reports whether every word start of the text inside tokens
// ta..tb is a word start of the term (bounds, relative to the match start).
func boundsWithin(s *stream, ta, tb int32, bounds []int32) bool {
	a := s.first[ta]
	for k := ta + 1; k <= tb; k++ {
		if _, ok := slices.BinarySearch(bounds, s.first[k]-a); !ok {
			return false
		}
	}
	return true
}

// allSingle reports whether tokens ta..tb (at least two) are single runes
// on one line. Letters spelled out over several lines are not a spelled-out
// word: OCR reads halftone dot chains and scattered marks as one-letter
// lines ("O", "t", "+t", "o"), which would spell Otto down a design.
func allSingle(tk *tokens, ta, tb int32) bool {
	if tb == ta {
		return false
	}
	for k := ta; k <= tb; k++ {
		if !tk.toks[k].single || tk.toks[k].line != tk.toks[ta].line {
			return false
		}
	}
	return true
}

// countDigits is the number of ASCII digits in folded runes.
func countDigits(rs []rune) int {
	n := 0
	for _, r := range rs {
		if '0' <= r && r <= '9' {
			n++
		}
	}
	return n
}

// symbolic reports whether a term is a symbolic mark: several words of
// mostly digits ("1&1", "1.1.1.1"), whose separators are what tells it from
// ordinary numbers and ratios.
func symbolic(tk *tokens) bool {
	if len(tk.toks) < 2 {
		return false
	}
	return 2*countDigits(tk.levels[levelFold].runes) >= len(tk.levels[levelFold].runes)
}

// separators returns the folded separators between the tokens of a text
// (rs), without spaces.
func separators(tk *tokens, rs []rune) []string {
	out := make([]string, 0, len(tk.toks)-1)
	for k := 1; k < len(tk.toks); k++ {
		out = append(out, foldSeparator(rs[tk.toks[k-1].end:tk.toks[k].start]))
	}
	return out
}

// sameSeparators reports whether tokens ta..tb of a text (rs) are as many
// as seps has gaps and are separated by exactly seps.
func sameSeparators(tk *tokens, rs []rune, ta, tb int32, seps []string) bool {
	if int(tb-ta) != len(seps) {
		return false
	}
	for k := ta + 1; k <= tb; k++ {
		if foldSeparator(rs[tk.toks[k-1].end:tk.toks[k].start]) != seps[k-ta-1] {
			return false
		}
	}
	return true
}

// foldSeparator is a separator in NFKC (fullwidth "＆" is "&") without
// spaces and ignorable runes.
func foldSeparator(sep []rune) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || ignorable(r) {
			return -1
		}
		return r
	}, norm.NFKC.String(string(sep)))
}

// fuzzy looks every window of up to maxTok words up in the fuzzy index.
func (m *Matcher) fuzzy(tk *tokens, add func(candidate)) {
	s := &tk.levels[levelOCR]
	fold := &tk.levels[levelFold]
	var isWord []bool
	if m.cfg.Words != nil {
		isWord = make([]bool, len(tk.toks))
		for k := range tk.toks {
			isWord[k] = m.cfg.Words.Contains(string(fold.runes[fold.first[k]:fold.first[k+1]]))
		}
	}
	seen := map[int32]bool{}
	var h hasher
	for i := range tk.toks {
		allWords := true
		for j := i; j < len(tk.toks) && j-i < m.maxTok; j++ {
			if tk.toks[j].line != tk.toks[i].line {
				break
			}
			allWords = allWords && isWord != nil && isWord[j]
			a, b := s.first[i], s.first[j+1]
			n := int(b - a)
			nWords := j - i + 1
			if n > m.fzMaxLen[nWords]+2 {
				break
			}
			if n < m.fz.minLen-1 || int(fold.first[j+1]-fold.first[i]) < m.cfg.FuzzyMinRunes || allWords {
				continue // too short to misspell, or ordinary words, not a misspelt mark
			}
			digits := countDigits(fold.runes[fold.first[i]:fold.first[j+1]])
			nFold := int(fold.first[j+1] - fold.first[i])
			d := 1
			if n+2 >= m.fzLongK[nWords] {
				d = 2
			}
			m.fz.lookup(s.runes[a:b], d, &h, seen, func(id int32, dist int) {
				if dist == 0 {
					return // the same ocr form: the automaton's business
				}
				for _, ti := range m.fzTerms[id] {
					if m.terms[ti].nTokens < nWords {
						continue // a window split where the term is not
					}
					if 2*(digits-m.terms[ti].digits) >= nFold {
						// Mostly digits the mark does not have ("1000d" for
						// iFood): a number read with OCR confusions and an
						// edit on top, not a misspelt mark.
						continue
					}
					add(candidate{term: ti, ta: int32(i), tb: int32(j), method: MethodFuzzy, rank: methodRank(MethodFuzzy), dist: dist})
				}
			})
		}
	}
}

// build turns the best candidates into Matches.
func (m *Matcher) build(text string, tk *tokens, best map[[3]int32]candidate) []Match {
	cands := make([]candidate, 0, len(best))
	for _, c := range best {
		cands = append(cands, c)
	}
	// Drop a span of an entry inside a longer span of the same entry, and a
	// phrase inside a longer phrase ("88" in "14/88").
	keep := cands[:0]
	for _, c := range cands {
		inside := false
		ec := &m.entries[m.terms[c.term].entry]
		for _, o := range cands {
			eo := &m.entries[m.terms[o.term].entry]
			related := eo == ec || eo.Kind == KindPhrase && ec.Kind == KindPhrase
			if related && o.ta <= c.ta && c.tb <= o.tb && (o.ta != c.ta || o.tb != c.tb) {
				inside = true
				break
			}
		}
		if !inside {
			keep = append(keep, c)
		}
	}
	rs := []rune(text)
	out := make([]Match, 0, len(keep))
	for _, c := range keep {
		t := &m.terms[c.term]
		e := &m.entries[t.entry]
		start, end := tk.toks[c.ta].start, tk.toks[c.tb].end
		la, lb := tk.toks[c.ta].line, tk.toks[c.tb].line
		standalone := c.ta == tk.lineTok[la][0] && c.tb+1 == tk.lineTok[lb][1]
		if e.StandaloneOnly && !standalone {
			continue
		}
		out = append(out, Match{
			EntryID: e.ID, Bank: e.Bank, Kind: e.Kind, Mark: t.text,
			Start: start, End: end, Text: string(rs[start:end]),
			Method: c.method, Distance: c.dist, Spaced: c.spaced,
			Generic:    t.generic,
			Standalone: standalone,
			Phrase:     e.Phrase,
		})
	}
	slices.SortFunc(out, func(a, b Match) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		if a.End != b.End {
			return b.End - a.End
		}
		return strings.Compare(a.Bank+"\x00"+a.EntryID, b.Bank+"\x00"+b.EntryID)
	})
	return out
}
