package ocr

import (
	"math"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Lexicon is a word list that recognition checks doubtful words against
// (lexicon-constrained CTC decoding): a word read that is not in the list
// is replaced by a listed word a few edits away when the recogniser's own
// per-step probabilities make that word nearly as likely as what it read.
// A bitten "o" read as "c" ("lcver") becomes "lover" because the model
// gave "o" some probability at that step; a confidently read brand name
// the list lacks ("Qlik") stays, because no listed word is near enough in
// probability. Immutable after NewLexicon; safe for concurrent use.
type Lexicon struct {
	set   map[string]struct{}
	byLen map[int][][]rune
	// phrases are multi-word phrases (folded words) a line is checked
	// against as a whole (WithPhrases).
	phrases [][][]rune
}

// NewLexicon builds a lexicon from words (any case, diacritics folded);
// entries with anything but letters, or shorter than two letters, are
// skipped.
func NewLexicon(words []string) *Lexicon {
	l := &Lexicon{set: map[string]struct{}{}, byLen: map[int][][]rune{}}
	for _, w := range words {
		f := foldWord(strings.TrimSpace(w))
		rs := []rune(f)
		if len(rs) < 2 || strings.IndexFunc(f, func(r rune) bool { return !unicode.IsLetter(r) }) >= 0 {
			continue
		}
		if _, ok := l.set[f]; ok {
			continue
		}
		l.set[f] = struct{}{}
		l.byLen[len(rs)] = append(l.byLen[len(rs)], rs)
	}
	return l
}

// Len is the number of words.
func (l *Lexicon) Len() int {
	if l == nil {
		return 0
	}
	return len(l.set)
}

// foldT builds the diacritics fold per call: a chained Transformer keeps
// buffers, so one shared value would race between concurrent reads.
func foldT() transform.Transformer {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}

// foldWord is lower case without diacritics (ß as ss).
func foldWord(s string) string {
	s = strings.ReplaceAll(strings.ToLower(s), "ß", "ss")
	if t, _, err := transform.String(foldT(), s); err == nil {
		return t
	}
	return s
}

// near returns the words within maxEd edits (Levenshtein) of w.
func (l *Lexicon) near(w []rune, maxEd int) [][]rune {
	var out [][]rune
	prev := make([]int, 0, 32)
	cur := make([]int, 0, 32)
	for n := max(2, len(w)-maxEd); n <= len(w)+maxEd; n++ {
		for _, c := range l.byLen[n] {
			if boundedLevenshtein(w, c, maxEd, &prev, &cur) <= maxEd {
				out = append(out, c)
			}
		}
	}
	return out
}

// boundedLevenshtein is the edit distance of a and b, or maxEd+1 once it
// must exceed maxEd.
func boundedLevenshtein(a, b []rune, maxEd int, prevp, curp *[]int) int {
	prev, cur := (*prevp)[:0], (*curp)[:0]
	for j := 0; j <= len(b); j++ {
		prev = append(prev, j)
		cur = append(cur, 0)
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
			best = min(best, cur[j])
		}
		if best > maxEd {
			*prevp, *curp = prev, cur
			return maxEd + 1
		}
		prev, cur = cur, prev
	}
	*prevp, *curp = prev, cur
	return prev[len(b)]
}

// lexicon correction parameters.
const (
	// lexMinRunes: shorter words are left as read (one edit turns any
	// two-letter word into another).
	lexMinRunes = 3
	// lexLongRunes: words this long may be two edits from the listed word.
	lexLongRunes = 5
)

// ctcToken is one word of a best path: its labels and the steps it spans
// (from just after the previous space to just before the next).
type ctcToken struct {
	labels []int
	t0, t1 int
}

// correct rewrites the words of a decoded line that are not in the
// lexicon with the most likely listed word within one edit (two from five
// letters), when its CTC probability over the word's steps is at least
// exp(−margin) times that of the word as read. Letters are compared
// without case (the probabilities of "o" and "O" are added); the word
// keeps the case pattern it was read with. It returns the line unchanged
// when nothing qualifies.
func (d *dictionary) correct(lex *Lexicon, probs []float32, steps, classes int, margin float64) (string, bool) {
	return d.correctPath(lex, probs, d.bestPath(probs, steps, classes), classes, margin)
}

// correctPath is correct on a best path already computed (bestPath) for
// the same probabilities.
func (d *dictionary) correctPath(lex *Lexicon, probs []float32, path []bestStep, classes int, margin float64) (string, bool) {
	return d.correctPathPhrases(lex, probs, path, classes, margin, margin)
}

// correctPathPhrases is correctPath with its own margin for phrases
// (Config.PhraseMargin).
func (d *dictionary) correctPathPhrases(lex *Lexicon, probs []float32, path []bestStep, classes int, margin, phraseMargin float64) (string, bool) {
	if lex == nil || d.letters == nil {
		return "", false
	}
	toks := d.tokens(path)
	// Context first: a run of words one or two edits from a phrase of the
	// lexicon's phrase list (Lexicon.WithPhrases) becomes the phrase when
	// the recogniser's probabilities allow it; then words split by a
	// stray space are joined; then each word on its own.
	items, changed := d.phraseItems(lex, probs, classes, toks, phraseMargin)
	words, more := d.finishItems(lex, probs, classes, items, margin)
	if !changed && !more {
		return "", false
	}
	return strings.Join(words, " "), true
}

// tokens cuts a best path into words at the space.
func (d *dictionary) tokens(path []bestStep) []ctcToken {
	var toks []ctcToken
	cur := ctcToken{t0: 0}
	prev := -1
	for t, st := range path {
		best := st.class
		if best == d.space {
			if len(cur.labels) > 0 {
				cur.t1 = t
				toks = append(toks, cur)
			}
			cur = ctcToken{t0: t + 1}
		} else if best != 0 && best != prev && best < len(d.chars) {
			cur.labels = append(cur.labels, best)
		}
		prev = best
	}
	if len(cur.labels) > 0 {
		cur.t1 = len(path)
		toks = append(toks, cur)
	}
	return toks
}

// finishItems corrects the items phraseItems left: words split by a stray
// space joined (or one run-together word split), a lone "1" read "I",
// then each word on its own. It returns the words and whether any
// changed.
func (d *dictionary) finishItems(lex *Lexicon, probs []float32, classes int, items []lexItem, margin float64) ([]string, bool) {
	items, changed := d.mergeSplits(lex, probs, classes, items, margin)
	words := make([]string, 0, len(items))
	for _, it := range items {
		if it.fixed {
			words = append(words, it.text)
			continue
		}
		if w, ok := d.loneI(probs, classes, it.tok, len(items), margin); ok {
			words = append(words, w)
			changed = true
			continue
		}
		w, ok := d.correctToken(lex, probs, classes, it.tok, margin)
		changed = changed || ok
		words = append(words, w)
	}
	return words, changed
}

// correctToken corrects one word (see correct).
func (d *dictionary) correctToken(lex *Lexicon, probs []float32, classes int, tk ctcToken, margin float64) (string, bool) {
	text := func(ls []int) string {
		var b strings.Builder
		for _, c := range ls {
			b.WriteString(d.chars[c])
		}
		return b.String()
	}
	read := text(tk.labels)
	// The core is the word without leading and trailing punctuation.
	alnum := func(c int) bool {
		rs := []rune(d.chars[c])
		return len(rs) == 1 && (unicode.IsLetter(rs[0]) || unicode.IsDigit(rs[0]))
	}
	a, b := 0, len(tk.labels)
	for a < b && !alnum(tk.labels[a]) {
		a++
	}
	for b > a && !alnum(tk.labels[b-1]) {
		b--
	}
	core := tk.labels[a:b]
	if len(core) < lexMinRunes {
		return read, false
	}
	nLetters := 0
	for _, c := range core {
		if d.letters[c] != 0 {
			nLetters++
		}
	}
	// Codes and numbers ("C18", "1488") are left as read.
	if 2*nLetters <= len(core) {
		return read, false
	}
	folded := []rune(foldWord(text(core)))
	if _, ok := lex.set[string(folded)]; ok {
		if !oddCaps(text(core)) {
			return read, false
		}
		return d.correctCaps(lex, probs, classes, tk, a, b, folded, margin)
	}
	maxEd := 1
	if len(core) >= lexLongRunes {
		maxEd = 2
	}
	cands := lex.near(folded, maxEd)
	if len(cands) == 0 {
		return read, false
	}
	span := probs[tk.t0*classes : tk.t1*classes]
	readSeq := d.labelSeq(tk.labels)
	base := ctcLogProb(span, tk.t1-tk.t0, classes, readSeq)
	bestLP, bestI := math.Inf(-1), -1
	for i, c := range cands {
		seq, ok := d.appendWord(append(make([]labelSet, 0, len(tk.labels)+2), readSeq[:a]...), c)
		if !ok {
			continue
		}
		seq = append(seq, readSeq[b:]...)
		if lp := ctcLogProb(span, tk.t1-tk.t0, classes, seq); lp > bestLP {
			bestLP, bestI = lp, i
		}
	}
	if bestI < 0 || bestLP < base-margin {
		return read, false
	}
	return text(tk.labels[:a]) + casedLike(string(cands[bestI]), text(core)) + text(tk.labels[b:]), true
}

// oddCaps reports whether a word is written in capitals but for a
// lower-case letter or two ("CLUe", "VeRCE"): a word set in capitals is
// set in capitals throughout, so such a letter is the recogniser's doubt
// (a bitten "B" read "e"), not the design's.
func oddCaps(w string) bool {
	var up, low int
	for _, r := range w {
		switch {
		case unicode.IsUpper(r):
			up++
		case unicode.IsLower(r):
			low++
		}
	}
	return up >= 2 && low >= 1 && up > low
}

// correctCaps corrects a listed word read in odd capitals ("CLUe" for a
// distressed "CLUB"): the word as read and the listed words one edit from
// it are compared in capitals — the case the word is set in — and the
// most likely replaces the reading when it is another word and at least
// exp(−margin) as likely as the reading (any case). Folded, "clue" would
// stay: the recogniser's "e" outweighs its "B", but not its "E".
func (d *dictionary) correctCaps(lex *Lexicon, probs []float32, classes int, tk ctcToken, a, b int, folded []rune, margin float64) (string, bool) {
	read := d.labelText(tk.labels)
	span := probs[tk.t0*classes : tk.t1*classes]
	T := tk.t1 - tk.t0
	readSeq := d.labelSeq(tk.labels)
	base := ctcLogProb(span, T, classes, readSeq)
	bestLP, best := math.Inf(-1), ""
	for _, c := range lex.near(folded, 1) {
		seq := append(make([]labelSet, 0, len(tk.labels)+2), readSeq[:a]...)
		ok := true
		for _, r := range c {
			ls, found := d.upperSet(r)
			if !found {
				ok = false
				break
			}
			seq = append(seq, ls)
		}
		if !ok {
			continue
		}
		seq = append(seq, readSeq[b:]...)
		if lp := ctcLogProb(span, T, classes, seq); lp > bestLP {
			bestLP, best = lp, string(c)
		}
	}
	if best == "" || best == string(folded) || bestLP < base-margin {
		return read, false
	}
	return d.labelText(tk.labels[:a]) + strings.ToUpper(best) + d.labelText(tk.labels[b:]), true
}

// upperSet is a letter's label set in capitals only.
func (d *dictionary) upperSet(r rune) (labelSet, bool) {
	ls, ok := d.letterSet[r]
	if !ok {
		return labelSet{}, false
	}
	out := labelSet{key: ls.key}
	for _, c := range ls.idx {
		if rs := []rune(d.chars[c]); len(rs) == 1 && unicode.IsUpper(rs[0]) {
			out.idx = append(out.idx, c)
		}
	}
	return out, len(out.idx) > 0
}

// casedLike writes w (lower case) in the case pattern of read: all upper
// case, capitalised, or lower case.
func casedLike(w, read string) string {
	var up, low int
	first := true
	firstUp := false
	for _, r := range read {
		if !unicode.IsLetter(r) {
			continue
		}
		if first {
			firstUp, first = unicode.IsUpper(r), false
		}
		if unicode.IsUpper(r) {
			up++
		} else {
			low++
		}
	}
	switch {
	case up > low:
		return strings.ToUpper(w)
	case firstUp:
		rs := []rune(w)
		rs[0] = unicode.ToUpper(rs[0])
		return string(rs)
	}
	return w
}

// labelSet is one CTC label that any of several classes may emit (a
// letter in either case); key tells labels apart (a folded letter, or the
// negated class of anything else).
type labelSet struct {
	key rune
	idx []int
}

// ctcLogProb is the log probability that T steps of probabilities emit
// seq under CTC (blank 0; a label repeats only across a blank): the
// forward algorithm with per-step rescaling.
func ctcLogProb(probs []float32, T, classes int, seq []labelSet) float64 {
	if T <= 0 {
		return math.Inf(-1)
	}
	S := 2*len(seq) + 1
	alpha := make([]float64, S)
	next := make([]float64, S)
	emit := func(t, s int) float64 {
		row := probs[t*classes : (t+1)*classes]
		if s%2 == 0 {
			return float64(row[0])
		}
		var p float64
		for _, c := range seq[s/2].idx {
			p += float64(row[c])
		}
		return p
	}
	alpha[0] = emit(0, 0)
	if S > 1 {
		alpha[1] = emit(0, 1)
	}
	logScale := 0.0
	norm := func(a []float64) bool {
		var sum float64
		for _, v := range a {
			sum += v
		}
		if sum <= 0 {
			return false
		}
		for i := range a {
			a[i] /= sum
		}
		logScale += math.Log(sum)
		return true
	}
	if !norm(alpha) {
		return math.Inf(-1)
	}
	for t := 1; t < T; t++ {
		for s := 0; s < S; s++ {
			v := alpha[s]
			if s >= 1 {
				v += alpha[s-1]
			}
			if s >= 2 && s%2 == 1 && seq[s/2].key != seq[s/2-1].key {
				v += alpha[s-2]
			}
			next[s] = v * emit(t, s)
		}
		alpha, next = next, alpha
		if !norm(alpha) {
			return math.Inf(-1)
		}
	}
	end := alpha[S-1]
	if S > 1 {
		end += alpha[S-2]
	}
	if end <= 0 {
		return math.Inf(-1)
	}
	return math.Log(end) + logScale
}

// ctcAlign is the most likely CTC alignment (Viterbi) of seq over T steps
// of probabilities: for each label of seq, the first step that emits it;
// nil when no alignment has a non-zero probability.
func ctcAlign(probs []float32, T, classes int, seq []labelSet) []int {
	if T <= 0 || len(seq) == 0 {
		return nil
	}
	S := 2*len(seq) + 1
	logEmit := func(t, s int) float64 {
		row := probs[t*classes : (t+1)*classes]
		if s%2 == 0 {
			return math.Log(float64(row[0]))
		}
		var p float64
		for _, c := range seq[s/2].idx {
			p += float64(row[c])
		}
		return math.Log(p)
	}
	// back[t*S+s] is how many states back step t's state s came from.
	back := make([]int8, T*S)
	delta := make([]float64, S)
	next := make([]float64, S)
	for s := range delta {
		delta[s] = math.Inf(-1)
	}
	delta[0] = logEmit(0, 0)
	if S > 1 {
		delta[1] = logEmit(0, 1)
	}
	for t := 1; t < T; t++ {
		for s := 0; s < S; s++ {
			best, from := delta[s], int8(0)
			if s >= 1 && delta[s-1] > best {
				best, from = delta[s-1], 1
			}
			if s >= 2 && s%2 == 1 && seq[s/2].key != seq[s/2-1].key && delta[s-2] > best {
				best, from = delta[s-2], 2
			}
			next[s] = best + logEmit(t, s)
			back[t*S+s] = from
		}
		delta, next = next, delta
	}
	s := S - 1
	if S > 1 && delta[S-2] > delta[S-1] {
		s = S - 2
	}
	if math.IsInf(delta[s], -1) {
		return nil
	}
	out := make([]int, len(seq))
	for i := range out {
		out[i] = -1
	}
	for t := T - 1; t >= 0; t-- {
		if s%2 == 1 {
			out[s/2] = t // overwritten down to the label's first step
		}
		if t > 0 {
			s -= int(back[t*S+s])
		}
	}
	for _, v := range out {
		if v < 0 {
			return nil
		}
	}
	return out
}
