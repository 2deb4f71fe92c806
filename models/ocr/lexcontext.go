package ocr

import (
	"math"
	"sort"
	"strings"
	"unicode"
)

// WithPhrases returns a copy of the lexicon that also knows phrases
// (banned slogans: "Sieg Heil", "Blood and Honour"). A run of words read
// one or two edits from a phrase — "SIES HAIL", "BLOCDA AND HONOR" — is
// corrected to the phrase as a whole when the recogniser's probabilities
// over the run make the phrase nearly as likely as what was read (the
// same test as a single word's, over the run's steps). Word by word such
// readings cannot be fixed: "HAIL" is a word, and "BLOCDA" is nearer
// "blocs" than "blood". Phrases of fewer than two words, or with anything
// but letters in a word, are skipped; words are folded like the lexicon's.
//
// A phrase with a sharp s ("Meine Ehre heißt Treue", "Mit deutschem
// Gruß") is listed twice: folded ("heisst"), and with its ß kept as one
// letter that the recogniser writes as a capital B — its dictionary has
// no ß, and on display and handwritten faces "heißt" reads "heiBt", two
// edits and a confident "B" from "heisst" but one edit from "heißt".
func (l *Lexicon) WithPhrases(phrases []string) *Lexicon {
	out := &Lexicon{set: l.set, byLen: l.byLen}
	seen := map[string]bool{}
	add := func(folded string) {
		ws := strings.FieldsFunc(folded, func(r rune) bool { return !unicode.IsLetter(r) })
		if len(ws) < 2 || seen[strings.Join(ws, " ")] {
			return
		}
		seen[strings.Join(ws, " ")] = true
		var ph [][]rune
		for _, w := range ws {
			ph = append(ph, []rune(w))
		}
		out.phrases = append(out.phrases, ph)
	}
	for _, p := range phrases {
		add(foldWord(p))
		if strings.ContainsAny(p, "ßẞ") {
			add(foldKeepSharpS(p))
		}
	}
	return out
}

// sharpS is the letter ß in a phrase listed with it kept (foldKeepSharpS):
// folded text never has it (foldWord writes "ss").
const sharpS = 'ß'

// foldKeepSharpS is foldWord but for ß (and ẞ), kept as ß.
func foldKeepSharpS(s string) string {
	s = strings.ReplaceAll(s, "ẞ", "ß")
	parts := strings.Split(s, "ß")
	for i, p := range parts {
		parts[i] = foldWord(p)
	}
	return strings.Join(parts, "ß")
}

// appendWord appends word's letters to seq as CTC label sets (each letter
// its lower and upper case); ok is false when the dictionary lacks one.
func (d *dictionary) appendWord(seq []labelSet, word []rune) (_ []labelSet, ok bool) {
	for _, r := range word {
		ls, found := d.letterSet[r]
		if !found {
			return seq, false
		}
		seq = append(seq, ls)
	}
	return seq, true
}

// Phrases is the number of phrases (WithPhrases).
func (l *Lexicon) Phrases() int {
	if l == nil {
		return 0
	}
	return len(l.phrases)
}

// lexItem is one word of a line being corrected: a token still to correct
// on its own, or text already decided (a word of a phrase).
type lexItem struct {
	tok   ctcToken
	fixed bool
	text  string
	// at is the step a phrase's word starts at (its first letter in the
	// phrase's most likely CTC alignment), and run the steps of the run
	// of words read that the phrase replaced: where detection split a
	// phrase, they say which region each word belongs to.
	at  int
	run [2]int
}

// labelSeq is a label sequence as CTC label sets: a letter is its lower
// and upper case, anything else itself.
func (d *dictionary) labelSeq(ls []int) []labelSet {
	out := make([]labelSet, len(ls))
	for i, c := range ls {
		if l := d.letters[c]; l != 0 {
			out[i] = d.letterSet[l]
		} else {
			out[i] = labelSet{key: rune(-c), idx: []int{c}}
		}
	}
	return out
}

func (d *dictionary) labelText(ls []int) string {
	var b strings.Builder
	for _, c := range ls {
		b.WriteString(d.chars[c])
	}
	return b.String()
}

// tokenCore returns the bounds of a token's core: its labels without
// leading and trailing punctuation.
func (d *dictionary) tokenCore(ls []int) (int, int) {
	alnum := func(c int) bool {
		rs := []rune(d.chars[c])
		return len(rs) == 1 && (unicode.IsLetter(rs[0]) || unicode.IsDigit(rs[0]))
	}
	a, b := 0, len(ls)
	for a < b && !alnum(ls[a]) {
		a++
	}
	for b > a && !alnum(ls[b-1]) {
		b--
	}
	return a, b
}

// allLetters reports whether every label is a Latin letter the lexicon
// compares.
func (d *dictionary) allLetters(ls []int) bool {
	for _, c := range ls {
		if d.letters[c] == 0 {
			return false
		}
	}
	return len(ls) > 0
}

// foldedLetters is a letters-only label sequence folded (lower case, no
// diacritics).
func (d *dictionary) foldedLetters(ls []int) []rune {
	out := make([]rune, len(ls))
	for i, c := range ls {
		out[i] = d.letters[c]
	}
	return out
}

// phraseEdits is the edit budget of a phrase of n letters: one edit up to
// 5 letters, two up to 12 ("SIES HAIL"), three beyond.
func phraseEdits(n int) int {
	switch {
	case n <= 5:
		return 1
	case n <= 12:
		return 2
	}
	return 3
}

// phraseCore returns the bounds of a token without the ordinary
// punctuation around it (.,;:!?'"()); anything else — "&" read for a
// script "E" — stays and counts as a wrong letter.
func (d *dictionary) phraseCore(ls []int) (int, int) {
	punct := func(c int) bool { return strings.Contains(".,;:!?'\"()", d.chars[c]) && d.chars[c] != "" }
	a, b := 0, len(ls)
	for a < b && punct(ls[a]) {
		a++
	}
	for b > a && punct(ls[b-1]) {
		b--
	}
	return a, b
}

// phraseItems replaces runs of tokens that read a phrase of the lexicon
// with a few edits (see WithPhrases) and returns the line as items. A run
// is compared letter by letter with its spaces left out, so a phrase read
// with a word split or two run together ("BLUTUND BODEN") is found too;
// the recogniser's probabilities decide with the phrase's own spaces.
func (d *dictionary) phraseItems(lex *Lexicon, probs []float32, classes int, toks []ctcToken, margin float64) ([]lexItem, bool) {
	items := make([]lexItem, 0, len(toks))
	changed := false
	var prev, cur []int
	sp := labelSet{key: rune(-d.space), idx: []int{d.space}}
	for i := 0; i < len(toks); {
		bestLP, bestM, bestP := math.Inf(-1), 0, -1
		exact, bestE := 0, math.MaxInt
		for pi, ph := range lex.phrases {
			k := len(ph)
			var target []rune
			for _, w := range ph {
				target = append(target, w...)
			}
			budget := phraseEdits(len(target))
			for m := 1; m <= k+1 && i+m <= len(toks); m++ {
				// The run's letters, spaces and ordinary punctuation
				// around words left out; anything else is a wrong letter.
				var read []rune
				for j := i; j < i+m; j++ {
					a, b := d.phraseCore(toks[j].labels)
					for _, c := range toks[j].labels[a:b] {
						if l := d.letters[c]; l != 0 {
							read = append(read, l)
						} else {
							read = append(read, -1)
						}
					}
				}
				if len(read) < len(target)-budget || len(read) > len(target)+budget {
					continue
				}
				e := boundedLevenshtein(read, target, budget, &prev, &cur)
				if e == 0 && (m == k || d.allListed(lex, toks[i:i+m])) {
					// Already a phrase as read ("Alles fuer Deutschland",
					// "Siegheil"): not to be turned into another spelling.
					exact = m
					continue
				}
				if e > budget || (e == 0 && m == k) {
					continue
				}
				// The phrase's sequence: the run's leading punctuation, the
				// phrase's words with spaces, its trailing punctuation.
				first, last := toks[i], toks[i+m-1]
				fa, _ := d.phraseCore(first.labels)
				_, lb := d.phraseCore(last.labels)
				seq := d.labelSeq(first.labels[:fa])
				ok := true
				for wi, w := range ph {
					if wi > 0 {
						seq = append(seq, sp)
					}
					if seq, ok = d.appendWord(seq, w); !ok {
						break
					}
				}
				if !ok {
					continue
				}
				seq = append(seq, d.labelSeq(last.labels[lb:])...)
				var readSeq []labelSet
				for j := i; j < i+m; j++ {
					if j > i {
						readSeq = append(readSeq, sp)
					}
					readSeq = append(readSeq, d.labelSeq(toks[j].labels)...)
				}
				t0, t1 := first.t0, last.t1
				span := probs[t0*classes : t1*classes]
				lpRead := ctcLogProb(span, t1-t0, classes, readSeq)
				lp := ctcLogProb(span, t1-t0, classes, seq)
				// The fewest edits first ("Fr" is "für", not "fuer"), then
				// the most likely.
				if lp >= lpRead-margin && (e < bestE || e == bestE && lp > bestLP) {
					bestLP, bestM, bestP, bestE = lp, m, pi, e
				}
			}
		}
		if exact > 0 {
			for j := i; j < i+exact; j++ {
				items = append(items, lexItem{tok: toks[j]})
			}
			i += exact
			continue
		}
		if bestP < 0 {
			items = append(items, lexItem{tok: toks[i]})
			i++
			continue
		}
		// Written in the case the run was read in, with its punctuation,
		// one item a word.
		first, last := toks[i], toks[i+bestM-1]
		fa, _ := d.phraseCore(first.labels)
		_, lb := d.phraseCore(last.labels)
		var readCore strings.Builder
		for j := i; j < i+bestM; j++ {
			a, b := d.phraseCore(toks[j].labels)
			readCore.WriteString(d.labelText(toks[j].labels[a:b]))
		}
		ph := lex.phrases[bestP]
		starts := d.phraseWordSteps(probs, classes, first.t0, last.t1, first.labels[:fa], ph, last.labels[lb:])
		for wi, w := range ph {
			t := casedLike(string(w), readCore.String())
			if wi == 0 {
				t = d.labelText(first.labels[:fa]) + t
			}
			if wi == len(ph)-1 {
				t += d.labelText(last.labels[lb:])
			}
			items = append(items, lexItem{fixed: true, text: t, at: starts[wi], run: [2]int{first.t0, last.t1}})
		}
		changed = true
		i += bestM
	}
	return items, changed
}

// phraseWordSteps returns the step at which each word of phrase ph starts
// in the most likely CTC alignment of lead + ph's words (spaces between)
// + trail over steps t0..t1; a word the alignment cannot place (no finite
// path) is placed in proportion to its letters.
func (d *dictionary) phraseWordSteps(probs []float32, classes, t0, t1 int, lead []int, ph [][]rune, trail []int) []int {
	sp := labelSet{key: rune(-d.space), idx: []int{d.space}}
	seq := d.labelSeq(lead)
	firsts := make([]int, len(ph))
	for wi, w := range ph {
		if wi > 0 {
			seq = append(seq, sp)
		}
		firsts[wi] = len(seq)
		seq, _ = d.appendWord(seq, w)
	}
	seq = append(seq, d.labelSeq(trail)...)
	at := ctcAlign(probs[t0*classes:t1*classes], t1-t0, classes, seq)
	out := make([]int, len(ph))
	for wi, k := range firsts {
		if at != nil && k < len(at) {
			out[wi] = t0 + at[k]
		} else {
			out[wi] = t0 + (t1-t0)*k/max(1, len(seq))
		}
	}
	return out
}

// allListed reports whether every token's core is a listed word.
func (d *dictionary) allListed(lex *Lexicon, toks []ctcToken) bool {
	for _, tk := range toks {
		a, b := d.phraseCore(tk.labels)
		if !d.allLetters(tk.labels[a:b]) {
			return false
		}
		if _, ok := lex.set[string(d.foldedLetters(tk.labels[a:b]))]; !ok {
			return false
		}
	}
	return true
}

// isWordForMerge: a listed word, or "a" or "I" (the lexicon lists no
// single letters).
func isWordForMerge(lex *Lexicon, w []rune) bool {
	if len(w) == 1 {
		return w[0] == 'a' || w[0] == 'i'
	}
	_, ok := lex.set[string(w)]
	return ok
}

// mergeSplits joins two neighbouring words of letters that a stray space
// split ("TEA M", "SUMM ER") when the joined word is listed, not both
// parts are words, and the recogniser's probabilities make the joined
// reading nearly as likely as the split one (the space's step read as a
// blank).
func (d *dictionary) mergeSplits(lex *Lexicon, probs []float32, classes int, items []lexItem, margin float64) ([]lexItem, bool) {
	changed := false
	out := items[:0:0]
	for i := 0; i < len(items); i++ {
		it := items[i]
		if i+1 < len(items) && !it.fixed && !items[i+1].fixed {
			a, b := it.tok, items[i+1].tok
			if d.allLetters(a.labels) && d.allLetters(b.labels) {
				fa, fb := d.foldedLetters(a.labels), d.foldedLetters(b.labels)
				joined := append(append([]rune{}, fa...), fb...)
				_, listed := lex.set[string(joined)]
				if listed && len(joined) >= lexMinRunes && !(isWordForMerge(lex, fa) && isWordForMerge(lex, fb)) {
					span := probs[a.t0*classes : b.t1*classes]
					T := b.t1 - a.t0
					sa, sb := d.labelSeq(a.labels), d.labelSeq(b.labels)
					sp := labelSet{key: rune(-d.space), idx: []int{d.space}}
					split := append(append(append([]labelSet{}, sa...), sp), sb...)
					join := append(append([]labelSet{}, sa...), sb...)
					if ctcLogProb(span, T, classes, join) >= ctcLogProb(span, T, classes, split)-margin {
						m := ctcToken{labels: append(append([]int{}, a.labels...), b.labels...), t0: a.t0, t1: b.t1}
						out = append(out, lexItem{tok: m})
						changed = true
						i++
						continue
					}
				}
			}
		}
		if !it.fixed {
			if parts, ok := d.splitRun(lex, probs, classes, it.tok, margin); ok {
				for _, p := range parts {
					out = append(out, lexItem{tok: p})
				}
				changed = true
				continue
			}
		}
		out = append(out, it)
	}
	return out, changed
}

// splitRun splits a word of letters that the lexicon does not list into
// two that it does (or "a", "I": "ILOVE", "BLUTUND") when the recogniser's
// probabilities make a space between them nearly as likely as none: the
// most likely split, at the step where the space is most likely.
func (d *dictionary) splitRun(lex *Lexicon, probs []float32, classes int, tk ctcToken, margin float64) ([]ctcToken, bool) {
	if len(tk.labels) < 3 || !d.allLetters(tk.labels) {
		return nil, false
	}
	f := d.foldedLetters(tk.labels)
	if _, ok := lex.set[string(f)]; ok {
		return nil, false
	}
	span := probs[tk.t0*classes : tk.t1*classes]
	T := tk.t1 - tk.t0
	whole := d.labelSeq(tk.labels)
	base := ctcLogProb(span, T, classes, whole)
	sp := labelSet{key: rune(-d.space), idx: []int{d.space}}
	bestLP, bestK := math.Inf(-1), -1
	for k := 1; k < len(f); k++ {
		if !isWordForMerge(lex, f[:k]) || !isWordForMerge(lex, f[k:]) {
			continue
		}
		seq := append(append(append([]labelSet{}, whole[:k]...), sp), whole[k:]...)
		if lp := ctcLogProb(span, T, classes, seq); lp >= base-margin && lp > bestLP {
			bestLP, bestK = lp, k
		}
	}
	if bestK < 0 {
		return nil, false
	}
	// Where the two words part: the step between the last label of the
	// first and the first of the second where a space is most likely
	// (the steps only matter to a later correction of either word).
	cut := tk.t0
	ends := d.labelSteps(probs, classes, tk)
	lo, hi := ends[bestK-1]+1, ends[bestK]
	bp := float32(-1)
	for t := lo; t < hi && t < tk.t1; t++ {
		if p := probs[t*classes+d.space]; p > bp {
			bp, cut = p, t
		}
	}
	a := ctcToken{labels: append([]int{}, tk.labels[:bestK]...), t0: tk.t0, t1: cut}
	b := ctcToken{labels: append([]int{}, tk.labels[bestK:]...), t0: cut + 1, t1: tk.t1}
	if bp < 0 {
		// No step between the two letters: they part right there.
		a.t1, b.t0 = lo, lo
	}
	if a.t1 <= a.t0 || b.t1 <= b.t0 {
		return nil, false
	}
	return []ctcToken{a, b}, true
}

// labelSteps returns, for each label of a token's best path, the first
// step at which it is read.
func (d *dictionary) labelSteps(probs []float32, classes int, tk ctcToken) []int {
	out := make([]int, 0, len(tk.labels))
	prev := -1
	for t := tk.t0; t < tk.t1 && len(out) < len(tk.labels); t++ {
		row := probs[t*classes : (t+1)*classes]
		best, bp := 0, float32(-1)
		for c, p := range row {
			if p > bp && (d.allowed == nil || (c < len(d.allowed) && d.allowed[c])) {
				best, bp = c, p
			}
		}
		if best != 0 && best != prev && best == tk.labels[len(out)] {
			out = append(out, t)
		}
		prev = best
	}
	for len(out) < len(tk.labels) {
		out = append(out, tk.t1-1)
	}
	return out
}

// loneI reads a word that is a lone "1", "l", "|" or "!" among other
// words as the pronoun "I" ("1 LOVE …") when the recogniser's
// probabilities at its steps make "I" nearly as likely.
func (d *dictionary) loneI(probs []float32, classes int, tk ctcToken, words int, margin float64) (string, bool) {
	if words < 2 || len(tk.labels) != 1 {
		return "", false
	}
	switch d.chars[tk.labels[0]] {
	case "1", "l", "|", "!":
	default:
		return "", false
	}
	ls, ok := d.letterSet['i']
	if !ok {
		return "", false
	}
	span := probs[tk.t0*classes : tk.t1*classes]
	T := tk.t1 - tk.t0
	upper := labelSet{key: 'i', idx: nil}
	for _, c := range ls.idx {
		if d.chars[c] == "I" {
			upper.idx = append(upper.idx, c)
		}
	}
	if len(upper.idx) == 0 {
		return "", false
	}
	if ctcLogProb(span, T, classes, []labelSet{upper}) >= ctcLogProb(span, T, classes, d.labelSeq(tk.labels))-margin {
		return "I", true
	}
	return "", false
}

// unknownWords counts the words of text (three letters or more, letters
// only once the punctuation around them is trimmed) the lexicon does not
// list.
func (l *Lexicon) unknownWords(text string) int {
	n := 0
	for _, w := range strings.Fields(text) {
		w = strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		if len([]rune(w)) < lexMinRunes || strings.IndexFunc(w, func(r rune) bool { return !unicode.IsLetter(r) }) >= 0 {
			if strings.IndexFunc(w, unicode.IsLetter) >= 0 && strings.IndexFunc(w, func(r rune) bool { return !unicode.IsLetter(r) }) >= 0 {
				n++ // letters mixed with digits or symbols: "everythir:g"
			}
			continue
		}
		if _, ok := l.set[foldWord(w)]; !ok {
			n++
		}
	}
	return n
}

// keptReading is one region's reading kept for line assembly: the
// recogniser's probabilities (steps × classes) and their best path.
type keptReading struct {
	probs []float32
	path  []bestStep
}

// correctAcross corrects phrases of the lexicon whose words detection
// found in different regions ("BLOCDA" + "AND HONOR", a slogan over two
// lines): segs are consecutive regions' readings in reading order. It
// reads them as one line — the regions' probabilities one after another,
// a step between two regions that is a space or nothing with equal
// probability (a region may end inside a word) — and looks for phrases
// as phraseItems does in one region, with the same likelihood test
// (margin phraseMargin over the run's steps). Only phrases whose run of
// words read spans two regions or more count: within one region
// recognition has already corrected. Each word of such a phrase goes to
// the region its first letter aligns in; the regions it touches are
// corrected again word by word (finishItems, as in one region: no word
// is joined across regions) and returned with touched set. texts is nil
// when no phrase spans regions.
func (d *dictionary) correctAcross(lex *Lexicon, segs []keptReading, classes int, margin, phraseMargin float64) (texts []string, touched []bool) {
	touched = make([]bool, len(segs))
	if lex == nil || len(lex.phrases) == 0 || len(segs) < 2 || d.letters == nil {
		return nil, touched
	}
	n := 0
	for _, sg := range segs {
		n += len(sg.path) + 1
	}
	probs := make([]float32, 0, n*classes)
	path := make([]bestStep, 0, n)
	offs := make([]int, len(segs))
	for k, sg := range segs {
		if k > 0 {
			j := len(probs)
			probs = append(probs, make([]float32, classes)...)
			probs[j], probs[j+d.space] = 0.5, 0.5
			path = append(path, bestStep{class: d.space, p: 0.5})
		}
		offs[k] = len(path)
		probs = append(probs, sg.probs[:len(sg.path)*classes]...)
		path = append(path, sg.path...)
	}
	// segOf is the region of a step (a step between two regions counts
	// to the first; no word starts there).
	segOf := func(t int) int { return sort.SearchInts(offs, t+1) - 1 }
	items, _ := d.phraseItems(lex, probs, classes, d.tokens(path), phraseMargin)
	across := false
	for _, it := range items {
		if it.fixed {
			if a, b := segOf(it.run[0]), segOf(it.run[1]-1); a != b {
				across = true
				for k := a; k <= b; k++ {
					touched[k] = true
				}
			}
		}
	}
	if !across {
		return nil, touched
	}
	per := make([][]lexItem, len(segs))
	for _, it := range items {
		k := segOf(it.tok.t0)
		if it.fixed {
			k = segOf(it.at)
		}
		per[k] = append(per[k], it)
	}
	texts = make([]string, len(segs))
	for k := range segs {
		if touched[k] {
			words, _ := d.finishItems(lex, probs, classes, per[k], margin)
			texts[k] = strings.Join(words, " ")
		}
	}
	return texts, touched
}
