package textmatch

import (
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// level is one normalisation of a text, from the strictest to the most
// lenient. Each level is computed from the one before it, rune by rune, so
// every normalised rune still belongs to one token of the original text.
type level uint8

const (
	// levelFold: NFKD, combining marks dropped, full Unicode case folding.
	levelFold level = iota
	// levelSkeleton: levelFold, then the UTS #39 skeleton of every rune
	// (Cyrillic А → a, 0 → o, 1 and I → l, m → rn …), lower-cased.
	levelSkeleton
	// levelOCR: levelSkeleton, then the confusions of OCR and of merchants'
	// leetspeak collapsed to one rune each (see ocrMap).
	levelOCR
	numLevels
)

// token is one word of a text: a maximal run of letters and digits (after
// folding), with the offsets of its runes in the original text.
type token struct {
	start, end int  // rune offsets in the original text, end exclusive
	line       int  // line number (0-based) the token is on
	single     bool // the token is a single original rune (spaced-out letters)
}

// stream is one level of a tokenised text: the normalised runes of all
// tokens concatenated without separators.
type stream struct {
	runes []rune
	tok   []int32 // token index of each rune
	first []int32 // first rune index of each token (len(tokens)+1; last = len(runes))
}

// tokens is a tokenised text at every level.
type tokens struct {
	toks    []token
	levels  [numLevels]stream
	nLines  int
	lineTok [][2]int32 // per line, first and last+1 token index
}

// normalizer holds the read-only tables built at Compile time; it is safe
// for concurrent use (the case folder is made per call).
type normalizer struct {
	skelASCII [128]string // skeleton of each ASCII rune, lower-cased
}

func newNormalizer() *normalizer {
	n := &normalizer{}
	for r := rune(0); r < 128; r++ {
		n.skelASCII[r] = lowerNoMarks(confusables.Skeleton(string(r)))
	}
	return n
}

// joiners are punctuation merchants put inside words in place of letters
// ("ADID@S", "N|KE", "$UPREME"); they belong to a token only between two
// letters or digits.
func isJoiner(r rune) bool { return r == '@' || r == '$' || r == '|' || r == '!' }

// ignorable runes are dropped without breaking a word: zero-width spaces and
// joiners, soft hyphens, bidi controls (category Cf).
func ignorable(r rune) bool { return unicode.Is(unicode.Cf, r) }

// scriptio continua: every rune of these scripts is its own token, since
// their words are not separated by spaces.
func ownToken(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar)
}

// wordRune reports whether r (on its own) is part of a word: a letter, a
// digit, or a symbol whose compatibility form is one letter or digit
// (circled Ⓝ, parenthesised ⒩ …). ™ (→ "TM") and emoji are not.
func wordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	if unicode.IsLetter(r) || unicode.IsNumber(r) {
		return true
	}
	if unicode.IsSymbol(r) {
		d := norm.NFKC.String(string(r))
		c, n := utf8.DecodeRuneInString(d)
		return n == len(d) && c != r && (unicode.IsLetter(c) || unicode.IsDigit(c))
	}
	return false
}

// tokenize splits text into tokens and computes every level.
func (n *normalizer) tokenize(text string) *tokens {
	rs := []rune(text)
	t := &tokens{}
	var folder *cases.Caser // made on the first non-ASCII rune: a Caser is not safe for sharing
	var buf [numLevels][]rune
	var tmp []rune
	inTok, line := false, 0
	closeTok := func(end int) {
		if !inTok {
			return
		}
		inTok = false
		k := &t.toks[len(t.toks)-1]
		k.end = end
		empty := true
		for l := range numLevels {
			if len(buf[l]) > 0 {
				empty = false
			}
		}
		if empty { // e.g. a lone combining mark: no runes at any level
			t.toks = t.toks[:len(t.toks)-1]
			return
		}
		idx := int32(len(t.toks) - 1)
		for l := range numLevels {
			s := &t.levels[l]
			s.first = append(s.first, int32(len(s.runes)))
			for _, r := range buf[l] {
				s.runes = append(s.runes, r)
				s.tok = append(s.tok, idx)
			}
			buf[l] = buf[l][:0]
		}
	}
	for i, r := range rs {
		switch {
		case r == '\n':
			closeTok(i)
			line++
			continue
		case ignorable(r):
			continue
		case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) || unicode.Is(unicode.Mc, r):
			// a combining mark belongs to the token it follows and adds nothing (folded away)
			continue
		}
		word := wordRune(r)
		if !word && inTok && isJoiner(r) && i+1 < len(rs) && wordRune(rs[i+1]) {
			word = true
		}
		if !word {
			closeTok(i)
			continue
		}
		if ownToken(r) {
			closeTok(i)
		}
		if !inTok {
			t.toks = append(t.toks, token{start: i, line: line})
			inTok = true
		}
		tmp = n.fold(r, &folder, tmp[:0])
		buf[levelFold] = append(buf[levelFold], tmp...)
		for _, f := range tmp {
			sk := n.skeleton(f)
			buf[levelSkeleton] = append(buf[levelSkeleton], []rune(sk)...)
			for _, s := range sk {
				buf[levelOCR] = appendOCR(buf[levelOCR], s)
			}
		}
		if ownToken(r) {
			closeTok(i + 1)
		}
	}
	closeTok(len(rs))
	for i := range t.toks {
		t.toks[i].single = t.toks[i].end-t.toks[i].start == 1
	}
	for l := range numLevels {
		t.levels[l].first = append(t.levels[l].first, int32(len(t.levels[l].runes)))
	}
	t.nLines = line + 1
	t.lineTok = make([][2]int32, t.nLines)
	for i := range t.lineTok {
		t.lineTok[i] = [2]int32{-1, -1}
	}
	for i, k := range t.toks {
		if t.lineTok[k.line][0] < 0 {
			t.lineTok[k.line][0] = int32(i)
		}
		t.lineTok[k.line][1] = int32(i + 1)
	}
	return t
}

// fold returns the folded runes of r appended to dst: NFKD, combining marks
// dropped, full case folding (ß → ss).
func (n *normalizer) fold(r rune, folder **cases.Caser, dst []rune) []rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(dst, r)
	}
	if *folder == nil {
		c := cases.Fold()
		*folder = &c
	}
	d := norm.NFKD.String(string(r))
	folded := (*folder).String(d)
	for _, c := range norm.NFKD.String(folded) {
		if unicode.Is(unicode.Mn, c) || unicode.IsSpace(c) {
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// skeleton is the UTS #39 skeleton of one folded rune, lower-cased and
// without combining marks.
func (n *normalizer) skeleton(r rune) string {
	if r < utf8.RuneSelf {
		return n.skelASCII[r]
	}
	return lowerNoMarks(confusables.Skeleton(string(r)))
}

func lowerNoMarks(s string) string {
	out := make([]rune, 0, len(s))
	for _, c := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, c) || unicode.IsSpace(c) {
			continue
		}
		out = append(out, unicode.ToLower(c))
	}
	return string(out)
}

// appendOCR appends the OCR class of one skeleton rune. Digits and joiners
// that OCR (or a merchant) puts for a letter become that letter; letters
// that OCR splits become the split form (w → vv, d → cl; m → rn is already
// done by the skeleton), so that either spelling lands on the same runes.
func appendOCR(dst []rune, r rune) []rune {
	switch r {
	case '0', 'o':
		return append(dst, 'o')
	case '1', 'l', 'i', '|', '!':
		return append(dst, 'l')
	case '5', '$', 's':
		return append(dst, 's')
	case '8':
		return append(dst, 'b')
	case '2':
		return append(dst, 'z')
	case '3':
		return append(dst, 'e')
	case '4', '@':
		return append(dst, 'a')
	case '7':
		return append(dst, 't')
	case '9':
		return append(dst, 'g')
	case 'w':
		return append(dst, 'v', 'v')
	case 'd':
		return append(dst, 'c', 'l')
	}
	return append(dst, r)
}
