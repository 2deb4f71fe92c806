package textmatch

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
)

// DefaultWordsPath is where Debian's wamerican package installs its word
// list (about 104,000 words; `make textmatch-deps` installs it).
const DefaultWordsPath = "/usr/share/dict/words"

// ErrNoWords is returned by LoadWords when the word list is missing. A
// matcher compiled without words treats every mark as distinctive (never
// generic) and applies no dictionary filter to fuzzy matches: it fails
// closed, towards more and stronger matches.
var ErrNoWords = errors.New("textmatch: word list not found")

// Words is a set of ordinary words (a dictionary), used to tell generic
// marks (Apple, Shell, Dove) from distinctive ones and to keep fuzzy
// matching off ordinary words. Words are stored folded (lower case, no
// diacritics). Immutable after loading.
type Words struct {
	set map[string]struct{}
}

// LoadWords reads a word list, one word a line (the format of
// /usr/share/dict/words). Only common words are kept: lines with a capital
// letter (proper nouns such as "Nike") or an apostrophe (possessives) are
// skipped. A missing file is ErrNoWords.
func LoadWords(path string) (*Words, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s (install Debian wamerican: make textmatch-deps)", ErrNoWords, path)
	}
	if err != nil {
		return nil, fmt.Errorf("textmatch: words: %w", err)
	}
	defer f.Close()
	return ReadWords(f)
}

// ReadWords reads a word list from r (see LoadWords).
func ReadWords(r io.Reader) (*Words, error) {
	n := newNormalizer()
	w := &Words{set: map[string]struct{}{}}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.ContainsAny(line, "'’") || strings.IndexFunc(line, unicode.IsUpper) >= 0 {
			continue
		}
		t := n.tokenize(line)
		if len(t.toks) != 1 {
			continue
		}
		w.set[string(t.levels[levelFold].runes)] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("textmatch: words: %w", err)
	}
	if len(w.set) == 0 {
		return nil, fmt.Errorf("%w: the list is empty", ErrNoWords)
	}
	return w, nil
}

// Len is the number of words.
func (w *Words) Len() int {
	if w == nil {
		return 0
	}
	return len(w.set)
}

// Contains reports whether the folded word is in the list. A nil *Words
// contains nothing.
func (w *Words) Contains(folded string) bool {
	if w == nil {
		return false
	}
	_, ok := w.set[folded]
	return ok
}
