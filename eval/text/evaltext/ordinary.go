package evaltext

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
)

// LoadSlogans reads a slogan file: one a line, "#" comments, "\n" inside a
// line a line break.
func LoadSlogans(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, strings.ReplaceAll(l, `\n`, "\n"))
	}
	return out, sc.Err()
}

// OrdinaryText screens ordinary slogans as if read from a design, without
// OCR: each as written and stacked one word a line (a common layout, in
// which every word is a line of its own), through the ocr analyzer's
// screening and the default policy (markets DE, US). It prints what flags
// any and returns the counts: the matcher's share of the "ordinary designs
// flagged" target, on far more slogans than the rendered set has.
func (e *Env) OrdinaryText(ctx context.Context, slogans []string, w io.Writer) (asWritten, stacked Count, err error) {
	for _, s := range slogans {
		for k, text := range []string{s, strings.Join(strings.Fields(s), "\n")} {
			d := Design{ID: "ordinary-text", Kind: KindOrdinary, Lines: []string{text}}
			r := Reading{Text: text}
			if err := e.Score(ctx, d, &r); err != nil {
				return asWritten, stacked, err
			}
			flagged := Flagged(r)
			if k == 0 {
				asWritten.add(flagged)
			} else {
				stacked.add(flagged)
			}
			if flagged {
				fmt.Fprintf(w, "  flagged: %q → %v\n", text, r.Markets)
			}
		}
	}
	return asWritten, stacked, nil
}
