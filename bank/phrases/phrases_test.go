package phrases_test

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/muster-dev/muster/bank/phrases"
	"github.com/muster-dev/muster/bank/textmatch"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// setup compiles the phrase bank with the real word list.
func setup(t *testing.T) *textmatch.Matcher {
	t.Helper()
	w, err := textmatch.LoadWords(textmatch.DefaultWordsPath)
	if err != nil {
		t.Fatalf("%v (run `make textmatch-deps`)", err)
	}
	m, err := textmatch.Compile(phrases.Entries(), textmatch.Config{Words: w})
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Skipped(); len(s) > 0 {
		t.Fatalf("phrase terms skipped: %+v", s)
	}
	return m
}

func TestBankIsWellFormed(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, p := range phrases.All() {
		if p.ID == "" || seen[p.ID] {
			t.Errorf("id %q empty or repeated", p.ID)
		}
		seen[p.ID] = true
		if len(p.Terms) == 0 || p.Label == "" || p.Notes == "" {
			t.Errorf("%s: needs terms, label and notes", p.ID)
		}
		if len(p.Sources) == 0 {
			t.Errorf("%s: no source", p.ID)
		}
		for _, s := range p.Sources {
			if u, err := url.Parse(s); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				t.Errorf("%s: source %q is not a URL", p.ID, s)
			}
		}
		if len(p.Banned) > 0 && p.Ground == "" {
			t.Errorf("%s: banned in %v without a legal ground", p.ID, p.Banned)
		}
		if p.Category == textmatch.CategoryCode && len(p.Banned) > 0 {
			t.Errorf("%s: codes are review everywhere, not banned", p.ID)
		}
		if strings.Contains(p.Notes, "UNSURE") && len(p.Banned) > 0 {
			t.Errorf("%s: an unsure entry must ship as review", p.ID)
		}
	}
}

// TestDecisions checks which texts are found and whether DE/AT law bans them.
func TestDecisions(t *testing.T) {
	t.Parallel()
	m := setup(t)
	tests := []struct {
		text   string
		id     string // "" for no match
		banned []string
		block  bool
	}{
		{"SIEG HEIL", "sieg-heil", []string{"DE", "AT"}, true},
		{"S1EG HE1L", "sieg-heil", []string{"DE", "AT"}, true},
		{"s i e g  h e i l", "sieg-heil", []string{"DE", "AT"}, true},
		{"Seig Heil", "sieg-heil", []string{"DE", "AT"}, false}, // fuzzy: review grade
		{"heil hitler!", "heil-hitler", []string{"DE", "AT"}, true},
		{"MEINE EHRE HEISST TREUE", "meine-ehre-heisst-treue", []string{"DE"}, true},
		{"Unsere Ehre heißt Treue", "meine-ehre-heisst-treue", []string{"DE"}, true},
		{"Blut und Ehre", "blut-und-ehre", []string{"DE"}, true},
		{"ALLES FÜR DEUTSCHLAND", "alles-fuer-deutschland", []string{"DE"}, true},
		{"Deutschland erwache!", "deutschland-erwache", []string{"DE"}, true},
		{"Mit deutschem Gruss", "mit-deutschem-gruss", nil, false},
		{"Ruhm und Ehre der Waffen-SS", "ruhm-und-ehre-der-waffen-ss", nil, false},
		{"Blood & Honour", "blood-and-honour", nil, false},
		{"COMBAT 18", "combat-18", []string{"DE"}, true},
		{"88", "code-88", nil, false},
		{"14/88", "code-1488", nil, false},
		{"1488 crew", "code-1488", nil, false},
		{"RAHOWA", "code-rahowa", nil, false},
		{"Born in 1988", "", nil, false},
		{"Class of 88", "", nil, false},
		{"18 x 24 inch poster", "", nil, false},
		{"Heil dir im Siegerkranz", "", nil, false},
		{"I give everything for Germany", "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			got := m.Match(tt.text)
			if tt.id == "" {
				if len(got) != 0 {
					t.Errorf("Match(%q) = %+v, want none", tt.text, got)
				}
				return
			}
			if len(got) != 1 || got[0].EntryID != tt.id {
				t.Fatalf("Match(%q) = %+v, want %s", tt.text, got, tt.id)
			}
			g := got[0]
			if !slices.Equal(g.Phrase.Banned, tt.banned) || g.BlockGrade() != tt.block || !g.Phrase.Review {
				t.Errorf("Match(%q): banned %v block %v review %v, want %v %v true", tt.text, g.Phrase.Banned, g.BlockGrade(), g.Phrase.Review, tt.banned, tt.block)
			}
		})
	}
}

// TestGolden pins the bank's jurisdiction table (go test -update rewrites it).
func TestGolden(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	fmt.Fprintln(&b, "id\tcategory\tbanned\tstrict\tstandalone_only\tterms")
	for _, p := range phrases.All() {
		fmt.Fprintf(&b, "%s\t%s\t%s\t%v\t%v\t%s\n", p.ID, p.Category, strings.Join(p.Banned, ","), p.Strict, p.StandaloneOnly, strings.Join(p.Terms, " | "))
	}
	path := filepath.Join("testdata", "bank.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("bank changed; review and run go test -update:\n%s", b.String())
	}
}
