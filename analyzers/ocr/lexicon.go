package ocr

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"unicode"

	"github.com/muster-dev/muster/bank/phrases"
	"github.com/muster-dev/muster/bank/textmatch"
	ocrmodel "github.com/muster-dev/muster/models/ocr"
)

// Lexicon is the word list the OCR engine corrects doubtful words against
// (ocrmodel.Lexicon): the common words of the Debian word list at
// wordsPath (textmatch.DefaultWordsPath; lines with a capital letter or an
// apostrophe — names, possessives — are left out, as textmatch does) and
// the words of the phrase bank's terms ("Sieg", "Deutschland", "Ehre"),
// and the words of marks (brand word marks: "Autodesk", "Nintendo"); the
// phrase bank's terms are its phrases (ocrmodel.Lexicon.WithPhrases: a
// line read a few edits from a banned slogan is corrected as a whole). A
// missing list wraps textmatch.ErrNoWords.
func Lexicon(wordsPath string, marks []string) (*ocrmodel.Lexicon, error) {
	f, err := os.Open(wordsPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("ocr lexicon: %w: %s", textmatch.ErrNoWords, wordsPath)
	}
	if err != nil {
		return nil, fmt.Errorf("ocr lexicon: %w", err)
	}
	defer f.Close()
	var words []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		w := strings.TrimSpace(sc.Text())
		if w == "" || strings.ContainsAny(w, "'’") || strings.IndexFunc(w, unicode.IsUpper) >= 0 {
			continue
		}
		words = append(words, w)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ocr lexicon: %w", err)
	}
	split := func(t string) []string {
		return strings.FieldsFunc(t, func(r rune) bool { return !unicode.IsLetter(r) })
	}
	var terms []string
	for _, p := range phrases.All() {
		for _, t := range p.Terms {
			words = append(words, split(t)...)
			terms = append(terms, t)
		}
	}
	for _, m := range marks {
		words = append(words, split(m)...)
	}
	return ocrmodel.NewLexicon(words).WithPhrases(terms), nil
}
