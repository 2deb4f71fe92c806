package match

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math/bits"
	"slices"

	"github.com/muster-dev/muster/bank/hamming"
)

// Why a reference was not reported for a design (Explanation.Reason).
const (
	// ReasonReported: it was reported.
	ReasonReported = "reported"
	// ReasonUnknown: no reference has that key.
	ReasonUnknown = "unknown-reference"
	// ReasonNoShape: no candidate region verifies against the reference at
	// its threshold; segmentation did not isolate the mark, or it is
	// deformed beyond the threshold.
	ReasonNoShape = "no-shape"
	// ReasonHashFar: a region verifies, but its hash is outside the lookup
	// radius (after the probes) of every variant of the reference.
	ReasonHashFar = "hash-far"
	// ReasonBudget: the region's lookup returned the reference, but the
	// screens or the verification budget (MaxVerify) left it out.
	ReasonBudget = "budget"
	// ReasonGeneric: the reference is not reported by shape alone (see
	// Matcher.Generic).
	ReasonGeneric = "generic"
	// ReasonSuppressed: the negative bank or an ambiguous region dropped it.
	ReasonSuppressed = "suppressed"
	// ReasonText: the region verifies but is a glyph of a line of text.
	ReasonText = "text"
	// ReasonPattern: the region verifies but is a piece of a periodic
	// ground (checker, stripes, chevrons, dots).
	ReasonPattern = "pattern"
	// ReasonEnclosed: the region verifies but is a filled outline that
	// frames art (enclosesArt).
	ReasonEnclosed = "enclosed"
	// ReasonContext: the region verifies but lacks the evidence beyond its
	// shape that a simple reference needs (lacksEvidence, match-11).
	ReasonContext = "context"
)

// Explanation tells why one reference was, or was not, found in a design:
// the best region for it by verification (regardless of the index), that
// region's nearest variant hash, and the first step that lost it.
type Explanation struct {
	Key       string  `json:"key"`
	Reason    string  `json:"reason"`
	Generic   string  `json:"generic,omitempty"`
	EdgeF     float64 `json:"edge_f"`    // best outline F-score of any region with enough IoU
	IoU       float64 `json:"iou"`       // of that region
	Threshold float64 `json:"threshold"` // the reference's
	Distance  int     `json:"distance"`  // nearest variant hash to that region's hash
	Radius    int     `json:"radius"`
	// MaskedDistance[k] is that nearest distance when the region's k least
	// certain bits are ignored (as Config.Probes = k does).
	MaskedDistance [9]int          `json:"masked_distance"`
	Box            image.Rectangle `json:"box"` // that region, design pixels
	Regions        int             `json:"regions"`
}

func (e Explanation) String() string {
	return fmt.Sprintf("%s: %s (edge %.3f/%.2f iou %.2f distance %d/%d box %v of %d regions)",
		e.Key, e.Reason, e.EdgeF, e.Threshold, e.IoU, e.Distance, e.Radius, e.Box, e.Regions)
}

// Explain verifies every candidate region of img against every variant of
// the reference key, without the index, and reports the best region and
// why Find did or did not report the reference. It is a diagnostic (for
// reviewers asking "why was this not found?" and for tuning); it costs
// far more than Find.
func (m *Matcher) Explain(ctx context.Context, img *image.NRGBA, key string) (Explanation, error) {
	e := Explanation{Key: key, Radius: m.cfg.Radius}
	if img == nil || img.Rect.Empty() {
		return e, errors.New("match: empty image")
	}
	found, _, err := m.Find(ctx, img)
	if err != nil {
		return e, err
	}
	w := prepare(img, m.cfg.WorkSize)
	cands, _ := m.propose(w)
	var wd *work
	if m.cfg.DetailSize > m.cfg.WorkSize && w.scale >= 1.5 {
		wd = prepare(img, m.cfg.DetailSize)
		for _, c := range m.proposeDetail(wd) {
			c.detail = true
			cands = append(cands, c)
		}
	}
	e.Regions = len(cands)
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.refs[key]
	if !ok {
		e.Reason = ReasonUnknown
		return e, nil
	}
	e.Threshold = m.threshold(r)
	if r.negScore >= e.Threshold {
		e.Generic = GenericNegative
	}
	if r.generic != "" {
		e.Generic = r.generic
	}
	bestI := -1
	for i := range cands {
		c := &cands[i]
		h, order, err := hashWithMargins(c.shapeMask(), nil)
		if err != nil {
			continue
		}
		c.hash, c.care = h, careMask(order, m.cfg.Probes)
		c.makeTemplates()
		for _, id := range r.variants {
			iou, edgeF, _, _ := m.verify(c, m.variants[id])
			if iou >= m.cfg.MinIoU && combine(iou, edgeF) > combine(e.IoU, e.EdgeF) {
				e.IoU, e.EdgeF, bestI = iou, edgeF, i
			}
		}
	}
	if bestI >= 0 {
		c := &cands[bestI]
		e.Box = w.toDesign(c.box)
		if c.detail {
			e.Box = wd.toDesign(c.box)
		}
		_, order, _ := hashWithMargins(c.shapeMask(), nil)
		for k := range e.MaskedDistance {
			care := careMask(order, k)
			e.MaskedDistance[k] = 64
			for _, id := range r.variants {
				code, _ := m.index.Code(id)
				e.MaskedDistance[k] = min(e.MaskedDistance[k], bits.OnesCount64((code^c.hash)&care))
			}
		}
		e.Distance = e.MaskedDistance[0]
	}
	switch {
	case slices.ContainsFunc(found, func(f Match) bool { return f.Key == key }):
		e.Reason = ReasonReported
	case e.Generic != "" && !m.protected(key):
		e.Reason = ReasonGeneric
	case bestI < 0 || e.EdgeF < e.Threshold:
		e.Reason = ReasonNoShape
	default:
		hits := m.lookup(nil, &cands[bestI])
		in := slices.ContainsFunc(hits, func(h hamming.Hit) bool { return m.variants[h.ID].ref == r })
		if !in {
			e.Reason = ReasonHashFar
			break
		}
		var st Stats
		kept := m.verifyCandidate(&cands[bestI], hits, &st)
		switch {
		case slices.ContainsFunc(kept, func(b best) bool { return b.ref == r }):
			e.Reason = ReasonReported // reported for this region but beaten elsewhere: not expected
		case st.Text > 0:
			e.Reason = ReasonText
		case st.Pattern > 0:
			e.Reason = ReasonPattern
		case st.Enclosed > 0:
			e.Reason = ReasonEnclosed
		case st.Context > 0:
			e.Reason = ReasonContext
		case st.Suppressed > 0 || st.Ambiguous > 0:
			e.Reason = ReasonSuppressed
		default:
			e.Reason = ReasonBudget
		}
	}
	return e, nil
}

// protected reports whether Config.Protected names key.
func (m *Matcher) protected(key string) bool {
	return m.cfg.Protected != nil && m.cfg.Protected(key)
}
