package textmatch_test

import (
	"fmt"
	"strings"

	"github.com/muster-dev/muster/bank/textmatch"
)

func Example() {
	words, err := textmatch.ReadWords(strings.NewReader("apple\npie\nrecipe\n"))
	if err != nil {
		panic(err)
	}
	m, err := textmatch.Compile([]textmatch.Entry{
		{ID: "nike", Bank: "marks", Kind: textmatch.KindWordMark, Terms: []string{"Nike"}},
		{ID: "apple", Bank: "marks", Kind: textmatch.KindWordMark, Terms: []string{"Apple"}},
		{ID: "sieg-heil", Bank: "phrases", Kind: textmatch.KindPhrase, Terms: []string{"Sieg Heil"},
			Phrase: &textmatch.PhraseInfo{Category: textmatch.CategoryGreeting, Banned: []string{"DE", "AT"}, Review: true}},
	}, textmatch.Config{Words: words})
	if err != nil {
		panic(err)
	}
	for _, text := range []string{"N.I.K.E running club", "Apple pie recipe", "S1EG HE1L"} {
		for _, g := range m.Match(text) {
			fmt.Printf("%q: %s %q %s generic=%v block=%v\n", text, g.EntryID, g.Text, g.Method, g.Generic, g.BlockGrade())
		}
	}
	// Output:
	// "N.I.K.E running club": nike "N.I.K.E" spaced generic=false block=true
	// "Apple pie recipe": apple "Apple" exact generic=true block=false
	// "S1EG HE1L": sieg-heil "S1EG HE1L" ocr_confusion generic=false block=true
}
