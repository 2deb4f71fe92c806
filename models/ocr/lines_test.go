package ocr

import (
	"reflect"
	"testing"
)

// spell is a word read one letter a step, each letter with probability p
// and a blank step after it.
func spell(s string, p float32) []map[string]float32 {
	var out []map[string]float32
	for _, r := range s {
		out = append(out, map[string]float32{string(r): p}, map[string]float32{})
	}
	return out
}

// seq concatenates steps.
func seq(parts ...[]map[string]float32) []map[string]float32 {
	var out []map[string]float32
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// gap is a space read with probability p.
func gap(p float32) []map[string]float32 { return []map[string]float32{{" ": p}} }

// reading is one region's kept reading of spec's steps.
func reading(d *dictionary, spec []map[string]float32) keptReading {
	p := steps(d, spec)
	return keptReading{probs: p, path: d.bestPath(p, len(spec), len(d.chars))}
}

// phraseLexicon knows a few banned phrases and the words around them.
func phraseLexicon() *Lexicon {
	return NewLexicon([]string{"blood", "and", "honor", "honey", "sieg", "heil", "blut", "und", "boden", "bodes", "the", "team"}).
		WithPhrases([]string{"Blood and Honor", "Sieg Heil", "Blut und Boden"})
}

// TestCorrectAcross: a phrase whose words detection found in different
// regions is corrected over the regions' readings together, each word
// going to the region it was read in; without a doubt in the recogniser's
// output, or when no phrase spans two regions, nothing changes.
func TestCorrectAcross(t *testing.T) {
	t.Parallel()
	d := testDict()
	C := len(d.chars)
	lex := phraseLexicon()
	// "BLOCDA": the second O read as C (O second best), a stray A.
	blocda := seq(spell("BLO", 0.9), []map[string]float32{{"C": 0.6, "O": 0.3}, {}}, spell("D", 0.9), []map[string]float32{{"A": 0.55}})
	for _, tc := range []struct {
		name string
		segs [][]map[string]float32
		want []string // nil: no phrase across regions
	}{
		{"line cut in two", [][]map[string]float32{blocda, seq(spell("AND", 0.9), gap(0.9), spell("HONOR", 0.9))}, []string{"BLOOD", "AND HONOR"}},
		{"three regions", [][]map[string]float32{spell("BLUT", 0.9), seq(spell("UN", 0.9), []map[string]float32{{"O": 0.6, "D": 0.35}}), spell("BODEN", 0.9)}, []string{"BLUT", "UND", "BODEN"}},
		// The region boundary inside a word: the word goes to the region
		// its first letter was read in.
		{"word cut", [][]map[string]float32{seq(spell("SIEG", 0.9), gap(0.9), spell("H", 0.9), []map[string]float32{{"A": 0.55, "E": 0.4}}, []map[string]float32{{}}), spell("IL", 0.9)}, []string{"SIEG HEIL", ""}},
		// Words around the phrase keep their own correction.
		{"words around", [][]map[string]float32{seq(spell("THE", 0.9), gap(0.9), blocda), seq(spell("AND", 0.9), gap(0.9), spell("HONOR", 0.9), gap(0.9), spell("TEA", 0.9), []map[string]float32{{"N": 0.5, "M": 0.4}})}, []string{"THE BLOOD", "AND HONOR TEAM"}},
		// The same letters read without doubt: left alone.
		{"sure", [][]map[string]float32{seq(spell("BLOCD", 0.999), spell("A", 0.999)), seq(spell("AND", 0.999), gap(0.999), spell("HONOR", 0.999))}, nil},
		// Ordinary words near a phrase, read with confidence.
		{"ordinary", [][]map[string]float32{spell("BLOOD", 0.99), seq(spell("AND", 0.99), gap(0.99), spell("HONEY", 0.99))}, nil},
		// A phrase inside one region is the region's own business.
		{"one region", [][]map[string]float32{seq(spell("SIE", 0.9), []map[string]float32{{"S": 0.5, "G": 0.4}, {}}, gap(0.9), spell("HEIL", 0.9)), spell("BODEN", 0.9)}, nil},
		// The phrase already as read: nothing to correct.
		{"exact", [][]map[string]float32{spell("BLOOD", 0.9), seq(spell("AND", 0.9), gap(0.9), spell("HONOR", 0.9))}, nil},
	} {
		segs := make([]keptReading, len(tc.segs))
		for k, s := range tc.segs {
			segs[k] = reading(d, s)
		}
		texts, touched := d.correctAcross(lex, segs, C, 3, 12)
		if len(touched) != len(segs) {
			t.Fatalf("%s: %d touched flags for %d regions", tc.name, len(touched), len(segs))
		}
		if !reflect.DeepEqual(texts, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, texts, tc.want)
		}
	}
}

// TestAssemblePhraseAcrossLines: line assembly corrects a phrase over
// the regions detection split it into — stacked lines, pieces of one row
// too far apart to chain, pieces chained into one line — and drops a
// region left without words; without phrases in the lexicon the regions
// read as they did.
func TestAssemblePhraseAcrossLines(t *testing.T) {
	t.Parallel()
	d := testDict()
	blocda := seq(spell("BLO", 0.9), []map[string]float32{{"C": 0.6, "O": 0.3}, {}}, spell("D", 0.9), []map[string]float32{{"A": 0.55}})
	andHonor := seq(spell("AND", 0.9), gap(0.9), spell("HONOR", 0.9))
	at := func(x0, y, x1 float64, spec []map[string]float32) piece {
		r := reading(d.kept(), spec)
		return piece{r: region{line: []pt{{x0, y}, {x1, y}}, half: 20},
			d: decoded{text: d.decodePath(r.path).text, score: 0.9, probs: r.probs, path: r.path}}
	}
	for _, tc := range []struct {
		name    string
		pieces  []piece
		phrases bool
		want    []string
	}{
		{"stacked", []piece{at(50, 200, 400, andHonor), at(50, 100, 300, blocda)}, true, []string{"BLOOD", "AND HONOR"}},
		{"one row, apart", []piece{at(600, 100, 900, andHonor), at(50, 100, 200, blocda)}, true, []string{"BLOOD", "AND HONOR"}},
		{"chained", []piece{at(50, 100, 200, blocda), at(210, 100, 450, andHonor)}, true, []string{"BLOOD AND HONOR"}},
		{"emptied", []piece{
			at(50, 100, 300, seq(spell("SIEG", 0.9), gap(0.9), spell("H", 0.9), []map[string]float32{{"A": 0.55, "E": 0.4}, {}})),
			at(50, 200, 100, spell("IL", 0.9)),
		}, true, []string{"SIEG HEIL"}},
		{"no phrases", []piece{at(50, 200, 400, andHonor), at(50, 100, 300, blocda)}, false, []string{"BLOCDA", "AND HONOR"}},
	} {
		lex := phraseLexicon()
		if !tc.phrases {
			lex = NewLexicon([]string{"blood", "and", "honor"})
		}
		e := &Engine{cfg: Config{Lexicon: lex, LexiconMargin: 3, PhraseMargin: 12}, dict: d}
		var got []string
		for _, l := range e.assemble(tc.pieces) {
			got = append(got, l.Text)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: lines %q, want %q", tc.name, got, tc.want)
		}
	}
}
