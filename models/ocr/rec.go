package ocr

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"unicode"
)

// Recognition input height and the classifier's input size (PaddleOCR
// rec_image_shape 3,48,320 with a dynamic width; cls_image_shape 3,48,192).
const (
	recHeight = 48
	clsWidth  = 192
)

// dictionary is the recognition model's output alphabet: index 0 is the
// CTC blank, 1..n the dictionary's lines, n+1 the space
// (PaddleOCR's CTCLabelDecode with use_space_char).
type dictionary struct {
	chars []string // by output index; chars[0] = "" (blank)
	// allowed marks the indices decoding may choose (the alphabet);
	// nil allows all. allowedIdx lists them in ascending order (nil with
	// allowed), so the best path scans only the alphabet's few hundred
	// classes instead of all 6,625.
	allowed    []bool
	allowedIdx []int32
	// space is the space's index; letters maps an allowed Latin letter's
	// index to its folded lower-case letter (0: not a letter), and
	// letterSet a folded letter to the classes that write it (every case
	// and accent): lexicon correction compares letters without case.
	space     int
	letters   []rune
	letterSet map[rune]labelSet
	// compact is the dictionary of the allowed characters alone (nil when
	// every character is allowed: the dictionary itself), and keep the
	// classes it keeps, in order: a region's reading kept until line
	// assembly (decoded.probs) holds only those (about 150 of 6,625
	// classes). Its blank, space and letters compare exactly as in the
	// whole dictionary (the same classes in the same order).
	compact *dictionary
	keep    []int
}

// indexCompact builds compact (after restrict and indexLetters).
func (d *dictionary) indexCompact() {
	if d.allowed == nil {
		return
	}
	c := &dictionary{}
	for i, ok := range d.allowed {
		if ok {
			c.chars = append(c.chars, d.chars[i])
			d.keep = append(d.keep, i)
		}
	}
	c.indexLetters()
	d.compact = c
}

// kept is the dictionary a kept reading is decoded with (compact or d).
func (d *dictionary) kept() *dictionary {
	if d.compact != nil {
		return d.compact
	}
	return d
}

// keepReading returns the first steps steps of a line's probabilities
// over the compact dictionary's classes (a copy: the batch's output is
// not held) and its best path in the compact dictionary's classes.
func (d *dictionary) keepReading(probs []float32, path []bestStep, classes int) ([]float32, []bestStep) {
	steps := len(path)
	if d.compact == nil {
		return append([]float32(nil), probs[:steps*classes]...), append([]bestStep(nil), path...)
	}
	nc := len(d.keep)
	out := make([]float32, steps*nc)
	for t := 0; t < steps; t++ {
		row, o := probs[t*classes:(t+1)*classes], out[t*nc:(t+1)*nc]
		for k, c := range d.keep {
			o[k] = row[c]
		}
	}
	// The path's classes renumbered: keep is sorted, so a binary search.
	cp := make([]bestStep, steps)
	for t, st := range path {
		cp[t] = bestStep{class: sort.SearchInts(d.keep, st.class), p: st.p}
	}
	return out, cp
}

// indexLetters fills space, letters and letterSet (after restrict).
func (d *dictionary) indexLetters() {
	d.space = len(d.chars) - 1
	d.letters = make([]rune, len(d.chars))
	d.letterSet = map[rune]labelSet{}
	for i, c := range d.chars {
		rs := []rune(c)
		if i == 0 || len(rs) != 1 || !unicode.IsLetter(rs[0]) || !unicode.Is(unicode.Latin, rs[0]) {
			continue
		}
		if d.allowed != nil && !d.allowed[i] {
			continue
		}
		f := []rune(foldWord(c))
		if len(f) != 1 || f[0] > unicode.MaxASCII {
			continue
		}
		d.letters[i] = f[0]
		ls := d.letterSet[f[0]]
		ls.key = f[0]
		ls.idx = append(ls.idx, i)
		d.letterSet[f[0]] = ls
	}
	// A phrase's ß (WithPhrases): the dictionary's ß where it has one, and
	// the capital B the recogniser writes for it where it has none.
	var sz labelSet
	for i, c := range d.chars {
		if (c == "ß" || c == "B") && (d.allowed == nil || d.allowed[i]) {
			sz.idx = append(sz.idx, i)
		}
	}
	if len(sz.idx) > 0 {
		sz.key = sharpS
		d.letterSet[sharpS] = sz
	}
}

// loadDictionary reads ppocr_keys_v1.txt (one character per line).
func loadDictionary(path string) (*dictionary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ocr dictionary: %w", err)
	}
	defer f.Close()
	d := &dictionary{chars: []string{""}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		d.chars = append(d.chars, strings.TrimRight(sc.Text(), "\r\n"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ocr dictionary: %w", err)
	}
	d.chars = append(d.chars, " ")
	return d, nil
}

// Alphabets a Config may name.
const (
	// AlphabetLatin decodes Latin letters, digits, punctuation and
	// symbols only: the model's CJK characters are never chosen, so a
	// stylised Latin letter cannot turn into a look-alike ideograph.
	AlphabetLatin = "latin"
	// AlphabetAll decodes the whole dictionary (Chinese included).
	AlphabetAll = "all"
)

// restrict limits decoding to the alphabet.
func (d *dictionary) restrict(alphabet string) error {
	switch alphabet {
	case AlphabetAll:
		d.allowed, d.allowedIdx = nil, nil
		return nil
	case AlphabetLatin:
	default:
		return fmt.Errorf("ocr: unknown alphabet %q (latin, all)", alphabet)
	}
	d.allowed = make([]bool, len(d.chars))
	d.allowed[0] = true
	for i, c := range d.chars[1:] {
		rs := []rune(c)
		if len(rs) != 1 {
			continue
		}
		r := rs[0]
		ok := r < 0x250 || unicode.Is(unicode.Latin, r) || (r >= 0x2000 && r <= 0x206F) || r == '€' || r == '™' || r == '®' || r == '©'
		if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) || (r >= 0xFF00 && r <= 0xFFEF) {
			ok = false
		}
		d.allowed[i+1] = ok
	}
	d.allowedIdx = d.allowedIdx[:0]
	for i, ok := range d.allowed {
		if ok {
			d.allowedIdx = append(d.allowedIdx, int32(i))
		}
	}
	return nil
}

// recInput turns strips (each recHeight rows) into one batch tensor
// [n,3,48,W]: BGR planes, (v/255 − 0.5)/0.5, each strip left-aligned and
// padded with zeros to the batch's widest (PaddleOCR's resize_norm_img).
func recInput(strips []strip) ([]float32, int) {
	wmax := 0
	for _, s := range strips {
		wmax = max(wmax, s.w)
	}
	plane := recHeight * wmax
	out := make([]float32, len(strips)*3*plane)
	for n, s := range strips {
		base := out[n*3*plane:]
		for y := 0; y < s.h; y++ {
			for x := 0; x < s.w; x++ {
				i := 3 * (y*s.w + x)
				o := y*wmax + x
				base[o] = s.rgb[i+2]/127.5 - 1
				base[plane+o] = s.rgb[i+1]/127.5 - 1
				base[2*plane+o] = s.rgb[i]/127.5 - 1
			}
		}
	}
	return out, wmax
}

// decoded is one strip's text and confidence.
type decoded struct {
	text  string
	score float64
	// corrected is set when the lexicon changed a word.
	corrected bool
	// unknown counts the words of three letters or more that the lexicon
	// does not list (after correction; 0 without a lexicon).
	unknown int
	// probs and path are the recogniser's output for the line over the
	// kept dictionary's classes (dictionary.kept: steps × classes) and
	// its best path, kept until line assembly when the lexicon has
	// phrases: a phrase whose words detection found in different regions
	// is corrected over the regions' outputs together (correctAcross).
	probs []float32
	path  []bestStep
}

// ctcDecode decodes one sequence of T steps of C probabilities: best path
// over the allowed characters, repeats collapsed, blanks dropped; the
// score is the mean probability of the kept characters (PaddleOCR's
// CTCLabelDecode). Only the first width/stride steps belong to a strip
// padded inside a wider batch; steps past them are read from padding and
// are ignored.
func (d *dictionary) ctcDecode(probs []float32, steps, classes int) decoded {
	return d.decodePath(d.bestPath(probs, steps, classes))
}

// bestStep is one step of the best path: the most likely allowed class
// and its probability.
type bestStep struct {
	class int
	p     float32
}

// bestPath picks, at each of the first steps steps, the most likely class
// of the allowed alphabet. Decoding and lexicon correction both read it,
// so the recogniser's output is scanned once per line.
//
// With an alphabet it visits only the allowed classes, in ascending order:
// the same first maximum as a scan of the whole row that skips the others.
func (d *dictionary) bestPath(probs []float32, steps, classes int) []bestStep {
	path := make([]bestStep, steps)
	idx := d.allowedIdx
	if d.allowed != nil {
		// Classes past the row (a model with fewer outputs) are not read.
		n, _ := slices.BinarySearch(idx, int32(classes))
		idx = idx[:n]
	}
	for t := range path {
		row := probs[t*classes : (t+1)*classes]
		best, bp := 0, float32(-1)
		if d.allowed == nil {
			for c, p := range row {
				if p > bp {
					best, bp = c, p
				}
			}
		} else {
			for _, c := range idx {
				if p := row[c]; p > bp {
					best, bp = int(c), p
				}
			}
		}
		path[t] = bestStep{best, bp}
	}
	return path
}

// decodePath collapses a best path: repeats merged, blanks dropped; the
// score is the mean probability of the kept characters.
func (d *dictionary) decodePath(path []bestStep) decoded {
	var b strings.Builder
	prev := -1
	var sum float64
	var n int
	for _, st := range path {
		best := st.class
		if best != 0 && best != prev && best < len(d.chars) {
			b.WriteString(d.chars[best])
			sum += float64(st.p)
			n++
		}
		prev = best
	}
	if n == 0 {
		return decoded{}
	}
	return decoded{text: strings.TrimSpace(collapseSpaces(b.String())), score: sum / float64(n)}
}

func collapseSpaces(s string) string {
	if !strings.Contains(s, "  ") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// clsInput makes the classifier's batch [n,3,48,192] from strips: each
// squeezed to at most 192 columns (keeping its aspect ratio when shorter),
// normalised like recognition, padded with zeros.
func clsInput(strips []strip) []float32 {
	plane := recHeight * clsWidth
	out := make([]float32, len(strips)*3*plane)
	for n, s := range strips {
		base := out[n*3*plane:]
		w := min(clsWidth, s.w)
		for x := 0; x < w; x++ {
			sxf := (float64(x) + 0.5) * float64(s.w) / float64(w)
			sx := clampi(int(math.Floor(sxf)), 0, s.w-1)
			for y := 0; y < recHeight; y++ {
				i := 3 * (y*s.w + sx)
				o := y*clsWidth + x
				base[o] = s.rgb[i+2]/127.5 - 1
				base[plane+o] = s.rgb[i+1]/127.5 - 1
				base[2*plane+o] = s.rgb[i]/127.5 - 1
			}
		}
	}
	return out
}
