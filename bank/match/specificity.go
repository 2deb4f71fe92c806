package match

import "sync"

// Specificity: how much a reference shape tells apart from any other art.
// A logo that is a plain sparkle, a ring shared by five brands, or a shape
// that a set of ordinary icons reproduces cannot be told from generic art by
// its shape, whatever the verification score. Three measures decide it:
//
//   - outline information (outlineInformation): a shape whose outline, per
//     symmetry of the square it has, is no longer than a plain disc's
//     carries no more information than a disc (a four-point sparkle);
//   - reproduction by the negative bank (Matcher.negativeScore): a reference
//     that a non-mark shape verifies against at the match threshold is as
//     generic as that shape;
//   - ambiguity at query time (Config.AmbiguousEntries): a region that
//     resembles several entries at once is a generic shape, not one of them.

// GenericLowInformation is the Generic reason of a reference whose outline
// carries no more information than a plain disc's.
const GenericLowInformation = "low-information"

// GenericNegative is the Generic reason of a reference that a shape of the
// negative bank reproduces at the match threshold.
const GenericNegative = "negative-bank"

// symmetryOrder counts the symmetries of the square (of the 8 dihedral
// transforms, identity included) that leave t unchanged up to a pixel.
func symmetryOrder(t *template) int {
	n := 0
	for d := 0; d < 8; d++ {
		td := t.dihedral(d)
		if iou, edgeF := similarity(t, &td, 1); iou >= 0.9 && edgeF >= 0.9 {
			n++
		}
	}
	return max(n, 1)
}

// outlineInformation is the number of outline pixels of t that its
// symmetries do not determine: the outline length divided by the symmetry
// order. A four-fold mirror-symmetric shape is fixed by an eighth of its
// outline.
func outlineInformation(t *template) float64 {
	b := t.boundary()
	return float64(b.count()) / float64(symmetryOrder(t))
}

// discInformation is the outline information of a plain disc filling the
// template.
var discInformation = sync.OnceValue(func() float64 {
	for _, p := range primitives() {
		if p.name == "disc" {
			return outlineInformation(&p.tmpl[0])
		}
	}
	return 0
})

// lowInformationDiscs is how many plain discs' outline information a
// reference must exceed to be reported by shape alone: two, a ring's
// (match-9; one disc before). Rings and rings with a dot or a notch are
// the commonest shapes of ordinary art — wheels, buttons, letter-circles,
// badges — and on eval-logos2's development seeds rings (`sourcehut`
// 30.5, `osano` 25.0) flagged 3 of 90 brand-free designs at outline
// scores of 0.975–1.000, which no threshold separates. 21 of simple-
// icons' 3,743 entries lie between one disc (16.5) and two (among them
// `target`'s bullseye and `okta`'s ring): they are no longer reported by
// shape alone (wordmark and text entries still find their names).
const lowInformationDiscs = 2

// lowInformation reports whether t's outline carries no more information
// than a ring's (lowInformationDiscs plain discs).
func lowInformation(t *template) bool {
	return outlineInformation(t) < lowInformationDiscs*discInformation()
}

// uprightTemplate returns the reference's template at angle 0 (the middle
// of its rotation grid) and its aspect ratio.
func uprightTemplate(tmpls []template, aspects []float64) (*template, float64) {
	i := len(tmpls) / 2
	return &tmpls[i], aspects[i]
}

// negativeScore is the best verified score of any shape of m (a negative
// bank) against the reference's upright template: how well ordinary
// non-mark art reproduces the reference.
func (m *Matcher) negativeScore(t *template, aspect float64) float64 {
	mk := NewMask(tmplSize, tmplSize)
	for y := 0; y < tmplSize; y++ {
		for x := 0; x < tmplSize; x++ {
			if t[y]>>x&1 != 0 {
				mk.Pix[y*tmplSize+x] = 255
			}
		}
	}
	h, order, err := hashWithMargins(mk, nil)
	if err != nil {
		return 0
	}
	c := candidate{mask: mk, hash: h, care: careMask(order, m.cfg.Probes), tmpl: *t, aspect: aspect, tmplDone: true}
	return m.bestScore(&c)
}

// thinRatio: a shape whose pixels number fewer than thinRatio times its
// outline pixels is line art (strokes under about three template pixels,
// 6 % of the side, wide).
const thinRatio = 1.5

// thin reports whether a template is line art, whose overlap with a
// rendition one pixel thicker or thinner is low although it is the same
// shape.
func thin(t *template) bool {
	b := t.boundary()
	return float64(t.count()) < thinRatio*float64(b.count())
}

// denseOutline is the outline density (outlineDensity) from which a
// reference's outline F-score is inflated by chance: with the 1 px
// tolerance its outline is near most pixels of any busy region.
const denseOutline = 0.6

// outlineDensity is the share of the template's pixels that lie within
// 1 px of its outline.
func outlineDensity(t *template) float64 {
	b := t.boundary()
	d := b.dilate()
	return float64(d.count()) / float64(tmplSize*tmplSize)
}
