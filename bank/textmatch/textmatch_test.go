package textmatch_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/muster-dev/muster/bank/textmatch"
)

// words loads the real Debian word list once per test binary; a missing
// list fails the test (make textmatch-deps installs it).
var words = sync.OnceValues(func() (*textmatch.Words, error) { return textmatch.LoadWords(textmatch.DefaultWordsPath) })

func loadWords(t testing.TB) *textmatch.Words {
	t.Helper()
	w, err := words()
	if err != nil {
		t.Fatalf("%v (run `make textmatch-deps`)", err)
	}
	return w
}

var sloganPhrase = &textmatch.PhraseInfo{Category: textmatch.CategorySlogan, Banned: []string{"DE", "AT"}, Ground: "DE StGB §86a", Review: true}
var codePhrase = &textmatch.PhraseInfo{Category: textmatch.CategoryCode, Review: true}

// testEntries is a small bank with the hard cases.
func testEntries() []textmatch.Entry {
	wm := func(id string, terms ...string) textmatch.Entry {
		return textmatch.Entry{ID: id, Bank: "simple-icons", Kind: textmatch.KindWordMark, Terms: terms}
	}
	return []textmatch.Entry{
		wm("nike", "Nike"),
		wm("adidas", "adidas"),
		wm("apple", "Apple"),
		wm("shell", "Shell"),
		wm("cocacola", "Coca-Cola"),
		wm("mcdonalds", "McDonald's"),
		wm("pokemon", "Pokémon"),
		wm("nintendo", "Nintendo"),
		wm("mastercard", "Mastercard"),
		wm("c", "C"),
		wm("hp", "HP"),
		wm("redbull", "Red Bull"),
		wm("bilibili", "哔哩哔哩"),
		wm("1and1", "1&1"),
		wm("cloudflare-dns", "1.1.1.1"),
		wm("otto", "Otto"),
		wm("ifood", "iFood"),
		wm("500px", "500px"),
		{ID: "sieg-heil", Bank: "phrases", Kind: textmatch.KindPhrase, Terms: []string{"Sieg Heil"}, Phrase: sloganPhrase},
		{ID: "meine-ehre", Bank: "phrases", Kind: textmatch.KindPhrase, Terms: []string{"Meine Ehre heißt Treue"}, Phrase: sloganPhrase},
		{ID: "88", Bank: "phrases", Kind: textmatch.KindPhrase, Terms: []string{"88"}, Strict: true, Phrase: codePhrase},
		{ID: "18", Bank: "phrases", Kind: textmatch.KindPhrase, Terms: []string{"18"}, Strict: true, StandaloneOnly: true, Phrase: codePhrase},
		{ID: "1488", Bank: "phrases", Kind: textmatch.KindPhrase, Terms: []string{"1488", "14/88"}, Strict: true, Phrase: codePhrase},
		{ID: "hh", Bank: "phrases", Kind: textmatch.KindPhrase, Terms: []string{"HH"}, Strict: true, Phrase: codePhrase},
	}
}

func setup(t testing.TB) *textmatch.Matcher {
	t.Helper()
	m, err := textmatch.Compile(testEntries(), textmatch.Config{Words: loadWords(t)})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// want is one expected match: entry id, method and the text matched.
type want struct {
	id     string
	method textmatch.Method
	text   string
}

func TestMatch(t *testing.T) {
	t.Parallel()
	m := setup(t)
	tests := []struct {
		name string
		text string
		want []want
	}{
		{"plain", "Just do it NIKE", []want{{"nike", "exact", "NIKE"}}},
		{"dots", "N.I.K.E. running club", []want{{"nike", "spaced", "N.I.K.E"}}},
		{"spaces", "N I K E", []want{{"nike", "spaced", "N I K E"}}},
		{"hyphens", "n-i-k-e air", []want{{"nike", "spaced", "n-i-k-e"}}},
		{"lowercase L for I", "NlKE", []want{{"nike", "ocr_confusion", "NlKE"}}},
		{"digit one for I", "N1KE air max", []want{{"nike", "ocr_confusion", "N1KE"}}},
		{"pipe for I", "N|KE", []want{{"nike", "ocr_confusion", "N|KE"}}},
		{"zero-width space inside", "NI\u200bKE", []want{{"nike", "exact", "NI\u200bKE"}}},
		{"fullwidth", "ＮＩＫＥ", []want{{"nike", "exact", "ＮＩＫＥ"}}},
		{"math bold", "𝐍𝐈𝐊𝐄", []want{{"nike", "exact", "𝐍𝐈𝐊𝐄"}}},
		{"trademark sign", "NIKE™", []want{{"nike", "exact", "NIKE"}}},
		{"cyrillic A", "АDIDAS originals", []want{{"adidas", "skeleton", "АDIDAS"}}},
		{"at for a", "ADID@S", []want{{"adidas", "ocr_confusion", "ADID@S"}}},
		{"cl for d", "ACLIDAS", []want{{"adidas", "ocr_confusion", "ACLIDAS"}}},
		{"rn for m", "Mastercard rnastercard", []want{{"mastercard", "exact", "Mastercard"}, {"mastercard", "skeleton", "rnastercard"}}},
		{"fuzzy one edit", "Adidass", []want{{"adidas", "fuzzy", "Adidass"}}},
		{"fuzzy two edits on a long mark", "Mastrecrad", []want{{"mastercard", "fuzzy", "Mastrecrad"}}},
		{"no fuzzy on a short mark", "Nikr", nil},
		{"not inside a longer word", "NIKEL metal", nil},
		{"diacritics", "POKEMON cards", []want{{"pokemon", "exact", "POKEMON"}}},
		{"hyphenated mark unhyphenated", "CocaCola classic", []want{{"cocacola", "exact", "CocaCola"}}},
		{"hyphenated mark spaced", "coca cola", []want{{"cocacola", "exact", "coca cola"}}},
		{"split elsewhere", "coc acola", nil},
		{"apostrophe", "McDonalds", []want{{"mcdonalds", "exact", "McDonalds"}}},
		{"curly apostrophe", "McDonald’s fries", []want{{"mcdonalds", "exact", "McDonald’s"}}},
		{"one-letter mark skipped", "Vitamin C", nil},
		{"two-letter mark exact", "HP laptop", []want{{"hp", "exact", "HP"}}},
		{"two-letter mark no ocr", "H P", nil},
		{"CJK inside a sentence", "我爱哔哩哔哩", []want{{"bilibili", "exact", "哔哩哔哩"}}},
		{"slogan", "SIEG HEIL", []want{{"sieg-heil", "exact", "SIEG HEIL"}}},
		{"slogan OCR errors", "S1EG HE1L", []want{{"sieg-heil", "ocr_confusion", "S1EG HE1L"}}},
		{"slogan over two lines", "SIEG\nHEIL", []want{{"sieg-heil", "exact", "SIEG\nHEIL"}}},
		{"slogan sharp s", "MEINE EHRE HEISST TREUE", []want{{"meine-ehre", "exact", "MEINE EHRE HEISST TREUE"}}},
		{"code alone", "88", []want{{"88", "exact", "88"}}},
		{"code in a year", "Est. 1988", nil},
		{"code as prefix", "88th birthday", nil},
		{"code not OCR-folded", "BB cream", nil},
		{"code slash", "14/88", []want{{"1488", "exact", "14/88"}}},
		{"code run together", "1488", []want{{"1488", "exact", "1488"}}},
		{"code spaced", "14 88", []want{{"1488", "exact", "14 88"}}},
		{"HH code", "HH crew", []want{{"hh", "exact", "HH"}}},
		{"standalone-only code alone", "  18 ", []want{{"18", "exact", "18"}}},
		{"standalone-only code in a phrase", "18 x 24 poster", nil},
		{"HH not in a word", "HHH", nil},
		{"symbolic mark", "1&1 hosting", []want{{"1and1", "exact", "1&1"}}},
		{"symbolic mark spaced separator", "1 & 1", []want{{"1and1", "exact", "1 & 1"}}},
		{"symbolic mark fullwidth separator", "1＆1", []want{{"1and1", "exact", "1＆1"}}},
		{"ratio is not a symbolic mark", "1:1", nil},
		{"score is not a symbolic mark", "1-1", nil},
		{"fraction is not a symbolic mark", "1/1", nil},
		{"number is not a symbolic mark", "11", nil},
		{"symbolic mark of four numbers", "dns 1.1.1.1", []want{{"cloudflare-dns", "exact", "1.1.1.1"}}},
		{"symbolic mark not spelled out", "1 1 1 1", nil},
		{"symbolic mark other separators", "1.1-1.1", nil},
		{"spelled out on one line", "O T T O", []want{{"otto", "spaced", "O T T O"}}},
		{"single letters down lines", "O\nt\nt\no", nil},
		{"single letters down lines, OCR forms", "O\nt\n+t\n0", nil},
		{"fuzzy mark", "iFoood", []want{{"ifood", "fuzzy", "iFoood"}}},
		{"fuzzy with one OCR digit", "iFoo0d", []want{{"ifood", "fuzzy", "iFoo0d"}}},
		{"a number is not a misspelt mark", "1000d", nil},
		{"fuzzy on a mark of digits", "500pz", []want{{"500px", "fuzzy", "500pz"}}},
		{"empty", "", nil},
		{"only punctuation", "!!! ??? ...", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := m.Match(tt.text)
			var gw []want
			for _, g := range got {
				gw = append(gw, want{g.EntryID, g.Method, g.Text})
			}
			if fmt.Sprint(gw) != fmt.Sprint(tt.want) {
				t.Errorf("Match(%q) = %v, want %v", tt.text, gw, tt.want)
			}
		})
	}
}

func TestGenericAndStandalone(t *testing.T) {
	t.Parallel()
	m := setup(t)
	tests := []struct {
		text                           string
		id                             string
		generic, standalone, blockable bool
	}{
		{"Apple pie recipe", "apple", true, false, false},
		{"APPLE", "apple", true, true, true},
		{"  Apple!  \nbest fruit", "apple", true, true, true},
		{"Shell collector", "shell", true, false, false},
		{"Nike", "nike", false, true, true},
		{"Run like Nike", "nike", false, false, true},
		{"a red bull in the field", "redbull", true, false, false},
		{"Adidass", "adidas", false, true, false}, // fuzzy: review grade
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			got := m.Match(tt.text)
			if len(got) != 1 || got[0].EntryID != tt.id {
				t.Fatalf("Match(%q) = %+v, want one %s match", tt.text, got, tt.id)
			}
			g := got[0]
			if g.Generic != tt.generic || g.Standalone != tt.standalone || g.BlockGrade() != tt.blockable {
				t.Errorf("Match(%q): generic %v standalone %v block %v, want %v %v %v", tt.text,
					g.Generic, g.Standalone, g.BlockGrade(), tt.generic, tt.standalone, tt.blockable)
			}
		})
	}
}

func TestMatchSpanAndPhraseData(t *testing.T) {
	t.Parallel()
	m := setup(t)
	text := "Ünïcode ok — S1EG HE1L!"
	got := m.Match(text)
	if len(got) != 1 {
		t.Fatalf("got %+v", got)
	}
	g := got[0]
	if r := []rune(text); string(r[g.Start:g.End]) != g.Text || g.Start != 13 || g.End != 22 {
		t.Errorf("span %d..%d %q", g.Start, g.End, g.Text)
	}
	if g.Kind != textmatch.KindPhrase || g.Phrase == nil || g.Phrase.Ground != "DE StGB §86a" || !g.BlockGrade() {
		t.Errorf("phrase data: %+v", g)
	}
}

func TestNoWordsFailsClosed(t *testing.T) {
	t.Parallel()
	m, err := textmatch.Compile(testEntries(), textmatch.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if m.HasWords() {
		t.Fatal("HasWords without words")
	}
	got := m.Match("Apple pie recipe")
	if len(got) != 1 || got[0].Generic || !got[0].BlockGrade() {
		t.Errorf("without a word list a mark must be distinctive: %+v", got)
	}
	if _, err := textmatch.LoadWords("/nonexistent/words"); !errors.Is(err, textmatch.ErrNoWords) {
		t.Errorf("LoadWords(missing) = %v, want ErrNoWords", err)
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		entries []textmatch.Entry
		cfg     textmatch.Config
	}{
		{"no id", []textmatch.Entry{{Kind: textmatch.KindWordMark, Terms: []string{"x"}}}, textmatch.Config{}},
		{"bad kind", []textmatch.Entry{{ID: "a", Kind: "logo", Terms: []string{"x"}}}, textmatch.Config{}},
		{"duplicate", []textmatch.Entry{{ID: "a", Kind: textmatch.KindWordMark}, {ID: "a", Kind: textmatch.KindWordMark}}, textmatch.Config{}},
		{"fuzzy too short", nil, textmatch.Config{FuzzyMinRunes: 2}},
		{"long below min", nil, textmatch.Config{FuzzyMinRunes: 6, FuzzyLongRunes: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := textmatch.Compile(tt.entries, tt.cfg); !errors.Is(err, textmatch.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestConcurrentMatch(t *testing.T) {
	t.Parallel()
	m := setup(t)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if got := m.Match("Ｎ1KE and АDIDAS"); len(got) != 2 {
					errs <- fmt.Sprint(got)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
