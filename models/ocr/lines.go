package ocr

import "strings"

// keepsReadings reports whether recognition keeps each region's output
// for line assembly: only a lexicon with phrases uses it
// (correctAcross).
func (e *Engine) keepsReadings() bool {
	return e.cfg.Lexicon.Phrases() > 0 && e.cfg.LexiconMargin > 0 && e.cfg.PhraseMargin > 0
}

// assemble turns the recognised pieces into lines in reading order:
// pieces that continue one another are chained into one line
// (chainPieces), the lines ordered (readingOrderIdx), and a phrase whose
// words detection found in different regions — a line cut into pieces,
// a slogan over two lines — corrected over those regions' readings
// together (correctAcross), each region keeping the words read in it.
// Lines left without text are dropped.
func (e *Engine) assemble(pieces []piece) []Line {
	chains := chainPieces(pieces)
	lines := make([]Line, len(chains))
	for i, c := range chains {
		lines[i] = makeLine(c)
	}
	order := readingOrderIdx(lines)
	if e.keepsReadings() {
		for _, c := range e.phrasesAcross(chains, order) {
			lines[c].Text = chainText(chains[c])
		}
	}
	out := make([]Line, 0, len(lines))
	for _, i := range order {
		if lines[i].Text != "" {
			out = append(out, lines[i])
		}
	}
	return out
}

// chainText is a chain's text: its pieces' texts joined by spaces, empty
// ones left out.
func chainText(chain []piece) string {
	texts := make([]string, 0, len(chain))
	for _, p := range chain {
		if p.d.text != "" {
			texts = append(texts, p.d.text)
		}
	}
	return strings.Join(texts, " ")
}

// phrasesAcross runs correctAcross over the pieces in reading order (the
// chains in order, each chain's pieces in turn), in runs of pieces that
// kept their readings, and rewrites the pieces it corrects. It returns
// the chains whose text changed.
func (e *Engine) phrasesAcross(chains [][]piece, order []int) []int {
	type ref struct{ c, p int }
	var changed []int
	kd := e.dict.kept()
	classes := len(kd.chars)
	var run []ref
	flush := func() {
		if len(run) >= 2 {
			segs := make([]keptReading, len(run))
			for k, r := range run {
				d := chains[r.c][r.p].d
				segs[k] = keptReading{probs: d.probs, path: d.path}
			}
			texts, touched := kd.correctAcross(e.cfg.Lexicon, segs, classes, e.cfg.LexiconMargin, e.cfg.PhraseMargin)
			for k, r := range run {
				if !touched[k] || chains[r.c][r.p].d.text == texts[k] {
					continue
				}
				chains[r.c][r.p].d.text = texts[k]
				if n := len(changed); n == 0 || changed[n-1] != r.c {
					changed = append(changed, r.c)
				}
			}
		}
		run = run[:0]
	}
	for _, c := range order {
		for p := range chains[c] {
			if chains[c][p].d.probs == nil {
				flush()
				continue
			}
			run = append(run, ref{c, p})
		}
	}
	flush()
	return changed
}
