package ocr

import (
	"math"
	"sync"
	"testing"
)

// testDict is a small recognition alphabet: blank, a–z, A–Z, ":", "1",
// space.
func testDict() *dictionary {
	d := &dictionary{chars: []string{""}}
	for r := 'a'; r <= 'z'; r++ {
		d.chars = append(d.chars, string(r))
	}
	for r := 'A'; r <= 'Z'; r++ {
		d.chars = append(d.chars, string(r))
	}
	d.chars = append(d.chars, ":", "1", " ")
	_ = d.restrict(AlphabetLatin)
	d.indexLetters()
	d.indexCompact()
	return d
}

func (d *dictionary) index(c string) int {
	for i, s := range d.chars {
		if s == c {
			return i
		}
	}
	panic(c)
}

// steps builds CTC probabilities: each step is a map of character to
// probability, the rest going to the blank.
func steps(d *dictionary, spec []map[string]float32) []float32 {
	C := len(d.chars)
	out := make([]float32, len(spec)*C)
	for t, m := range spec {
		var sum float32
		for c, p := range m {
			out[t*C+d.index(c)] = p
			sum += p
		}
		out[t*C] += 1 - sum
	}
	return out
}

func TestCTCLogProb(t *testing.T) {
	t.Parallel()
	d := testDict()
	C := len(d.chars)
	// Two steps, each certain of "a": "a" is certain, "aa" impossible
	// (a repeat needs a blank between), "b" impossible.
	p := steps(d, []map[string]float32{{"a": 1}, {"a": 1}})
	seq := func(s string) []labelSet {
		var out []labelSet
		for _, r := range s {
			out = append(out, d.letterSet[r])
		}
		return out
	}
	if lp := ctcLogProb(p, 2, C, seq("a")); math.Abs(lp) > 1e-9 {
		t.Errorf("log P(a) = %v, want 0", lp)
	}
	for _, s := range []string{"aa", "b"} {
		if lp := ctcLogProb(p, 2, C, seq(s)); !math.IsInf(lp, -1) {
			t.Errorf("log P(%s) = %v, want -Inf", s, lp)
		}
	}
	// Upper and lower case count as one letter.
	p = steps(d, []map[string]float32{{"a": 0.5, "A": 0.5}})
	if lp := ctcLogProb(p, 1, C, seq("a")); math.Abs(lp) > 1e-9 {
		t.Errorf("log P(a|A) = %v, want 0", lp)
	}
}

func TestLexiconCorrects(t *testing.T) {
	t.Parallel()
	d := testDict()
	C := len(d.chars)
	lex := NewLexicon([]string{"lover", "plant", "lick", "hello", "club", "clue"})
	for _, tc := range []struct {
		name string
		spec []map[string]float32
		want string // "" for unchanged
	}{
		// "lcver": the "o" is second best at its step: corrected.
		{"bitten o", []map[string]float32{{"l": 0.9}, {}, {"c": 0.6, "o": 0.3}, {"v": 0.9}, {"e": 0.9}, {"r": 0.9}}, "lover"},
		// The same step with no doubt about the "c": left alone.
		{"sure c", []map[string]float32{{"l": 0.9}, {}, {"c": 0.99}, {"v": 0.9}, {"e": 0.9}, {"r": 0.9}}, ""},
		// A confident word the lexicon lacks ("Qlik" is near "lick"): left alone.
		{"brand", []map[string]float32{{"Q": 0.95}, {"l": 0.95}, {"i": 0.95}, {"k": 0.95}}, ""},
		// Upper case is kept; punctuation around the word is kept.
		{"case", []map[string]float32{{"P": 0.9}, {"L": 0.9}, {"A": 0.9}, {"M": 0.5, "N": 0.4}, {"T": 0.9}, {":": 0.9}}, "PLANT:"},
		// Two words: only the one not listed changes.
		{"words", []map[string]float32{{"h": 0.9}, {"e": 0.9}, {"l": 0.9}, {}, {"l": 0.9}, {"o": 0.9}, {" ": 0.9}, {"l": 0.9}, {"c": 0.5, "o": 0.4}, {"v": 0.9}, {"e": 0.9}, {"r": 0.9}}, "hello lover"},
		// A listed word in odd capitals ("CLUe"): compared in capitals,
		// the bitten "B" beats the "E" the recogniser hardly saw.
		{"odd caps", []map[string]float32{{"C": 0.9}, {"L": 0.9}, {"U": 0.9}, {"e": 0.55, "B": 0.18, "E": 0.02}}, "CLUB"},
		// The same word in capitals throughout, or in lower case: a
		// listed word, left as read.
		{"caps", []map[string]float32{{"C": 0.9}, {"L": 0.9}, {"U": 0.9}, {"E": 0.55, "B": 0.18}}, ""},
		{"lower case", []map[string]float32{{"c": 0.9}, {"l": 0.9}, {"u": 0.9}, {"e": 0.55, "b": 0.18}}, ""},
		// Odd capitals with no likelier capital word: left as read.
		{"odd caps, sure", []map[string]float32{{"C": 0.9}, {"L": 0.9}, {"U": 0.9}, {"e": 0.55, "E": 0.3, "B": 0.01}}, ""},
		// Digits and codes are not words.
		{"code", []map[string]float32{{"l": 0.9}, {"1": 0.9}, {"1": 0}, {"1": 0.9}}, ""},
	} {
		checkCorrection(t, d, lex, C, tc.name, tc.spec, tc.want)
	}
}

// TestLexiconConcurrent: one lexicon and dictionary serve concurrent
// reads (run with -race).
func TestLexiconConcurrent(t *testing.T) {
	t.Parallel()
	d := testDict()
	C := len(d.chars)
	lex := NewLexicon([]string{"lover", "über"})
	spec := []map[string]float32{{"l": 0.9}, {}, {"c": 0.6, "o": 0.3}, {"v": 0.9}, {"e": 0.9}, {"r": 0.9}}
	p := steps(d, spec)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 20; k++ {
				if got, ok := d.correct(lex, p, len(spec), C, 3); !ok || got != "lover" {
					t.Errorf("got %q (%v), want lover", got, ok)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestLexiconContext: phrases corrected as a whole and words split by a
// stray space joined, only where the recogniser's probabilities allow it.
func TestLexiconContext(t *testing.T) {
	t.Parallel()
	d := testDict()
	C := len(d.chars)
	lex := NewLexicon([]string{"sieg", "heil", "hail", "sees", "team", "tea", "be", "kind", "bekind", "love", "siegheil"}).WithPhrases([]string{"Sieg Heil", "Blood", "Mit deutschem Gruß", "Blood and Honor", "Blood and Honour"})
	if lex.Phrases() != 5 {
		t.Fatalf("phrases = %d, want 5 (one-word phrases skipped; the one with ß listed twice)", lex.Phrases())
	}
	word := func(s string, p float32) []map[string]float32 {
		var out []map[string]float32
		for _, r := range s {
			out = append(out, map[string]float32{string(r): p}, map[string]float32{})
		}
		return out
	}
	cat := func(parts ...[]map[string]float32) []map[string]float32 {
		var out []map[string]float32
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	space := func(p float32) []map[string]float32 { return []map[string]float32{{" ": p}} }
	for _, tc := range []struct {
		name string
		spec []map[string]float32
		want string // "" for unchanged
	}{
		// "SIES HAIL": the G and the E second best; "HAIL" is a word, so
		// word by word only "SIES" could change.
		{"phrase", cat(word("SIE", 0.9), []map[string]float32{{"S": 0.5, "G": 0.4}}, space(0.9), word("H", 0.9), []map[string]float32{{"A": 0.5, "E": 0.4}}, word("IL", 0.9)), "SIEG HEIL"},
		// One spelling of a phrase read as it is: not turned into another
		// ("Blood and Honour" is one edit from "Blood and Honor").
		{"exact spelling", cat(word("BLOOD", 0.9), space(0.9), word("AND", 0.9), space(0.9), word("HON", 0.9), []map[string]float32{{"O": 0.9}, {"U": 0.3}, {"R": 0.9}}), ""},
		// A listed spelling run together ("Siegheil"): not split.
		{"listed run", cat(word("SIEG", 0.9), []map[string]float32{{" ": 0.3}}, word("HEIL", 0.9)), ""},
		// The same letters read without doubt: left alone.
		{"sure phrase", cat(word("SIES", 0.99), space(0.99), word("HAIL", 0.99)), ""},
		// A stray space inside "TEAM": joined.
		{"split", cat(word("TEA", 0.9), space(0.6), word("M", 0.9)), "TEAM"},
		// A space the recogniser is sure of: left alone.
		{"sure space", cat(word("TEA", 0.9), space(0.9999), word("M", 0.9)), ""},
		// "ILOVE": a space is second best between I and L: split.
		{"run together", cat(word("I", 0.9), []map[string]float32{{" ": 0.3}}, word("LOVE", 0.9)), "I LOVE"},
		// Two words, each listed: never joined.
		{"two words", cat(word("be", 0.9), space(0.6), word("kind", 0.9)), ""},
		// "GRUß" read "GRUB" (no ß in the dictionary): one edit from the
		// phrase with its ß, and the recogniser's B is what it writes for
		// one; folded ("GRUSS") it was two edits and a sure B against "SS".
		{"sharp s read B", cat(word("MIT", 0.9), space(0.9), word("DEUTSCHEM", 0.9), space(0.9), word("GRUB", 0.9)), "MIT DEUTSCHEM GRUß"},
		// "GRUSS" as read: already the phrase, left alone.
		{"sharp s as ss", cat(word("MIT", 0.9), space(0.9), word("DEUTSCHEM", 0.9), space(0.9), word("GRUSS", 0.9)), ""},
	} {
		checkCorrection(t, d, lex, C, tc.name, tc.spec, tc.want)
	}
}

// TestLoneI: "1 LOVE" reads "I LOVE" when "I" is nearly as likely; a
// number alone, or a sure "1", stays.
func TestLoneI(t *testing.T) {
	t.Parallel()
	d := testDict()
	C := len(d.chars)
	lex := NewLexicon([]string{"love"})
	for _, tc := range []struct {
		name string
		spec []map[string]float32
		want string
	}{
		{"doubtful one", []map[string]float32{{"1": 0.6, "I": 0.3}, {" ": 0.9}, {"L": 0.9}, {"O": 0.9}, {"V": 0.9}, {"E": 0.9}}, "I LOVE"},
		{"sure one", []map[string]float32{{"1": 0.9999}, {" ": 0.9}, {"L": 0.9}, {"O": 0.9}, {"V": 0.9}, {"E": 0.9}}, ""},
		{"alone", []map[string]float32{{"1": 0.6, "I": 0.3}}, ""},
	} {
		checkCorrection(t, d, lex, C, tc.name, tc.spec, tc.want)
	}
}

// checkCorrection reads spec's steps with lex (margin 3) and checks the
// correction: want, or no correction when want is empty.
func checkCorrection(t *testing.T, d *dictionary, lex *Lexicon, C int, name string, spec []map[string]float32, want string) {
	t.Helper()
	got, ok := d.correct(lex, steps(d, spec), len(spec), C, 3)
	if want == "" {
		if ok {
			t.Errorf("%s: corrected to %q, want unchanged", name, got)
		}
		return
	}
	if !ok || got != want {
		t.Errorf("%s: got %q (%v), want %q", name, got, ok, want)
	}
}
