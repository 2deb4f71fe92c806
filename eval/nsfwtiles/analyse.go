package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"text/tabwriter"

	"github.com/muster-dev/muster/eval/benign/benigngen"
)

// strategy turns a design's measurements into the categories the policy
// reads (sexual_explicit, sexual_suggestive) and the model runs it costs.
type strategy struct {
	name     string
	area     bool    // area pre-filtered tiles (else decimated)
	flat     float32 // skip tiles whose flat share ≥ this (0: never)
	edgeMin  float32 // skip tiles with fewer strong edges than this
	skinMin  float32 // explicit evidence of a tile needs this skin share
	flip     bool    // a tile's score is the minimum of it and its mirror image
	floorE   float64 // tile explicit below this counts as 0
	floorS   float64 // tile suggestive below this counts as 0
	verifyAt float64 // flips are run for tiles at or above this (cost)
	incep    bool    // InceptionV3 verifies tiles at or above incAt: the tile's score is the lower of both models
	incAt    float64
	incMean  bool // the mean of both models instead of the lower
	incGeo   bool // the geometric mean of both models
}

func (st strategy) apply(r Rec) (explicit, sexy float64, runs int) {
	explicit, sexy = r.Whole.explicit(), r.Whole.sexy()
	runs = 1
	for _, t := range r.Tiles {
		if st.flat > 0 && t.Flat >= st.flat {
			continue
		}
		if t.Edge < st.edgeMin {
			continue
		}
		runs++
		p := t.Dec
		if st.area {
			p = t.Area
		}
		e, s := p.explicit(), p.sexy()
		if st.flip && (e >= st.verifyAt || s >= st.verifyAt) {
			runs++
			if t.Flip != nil {
				e, s = math.Min(e, t.Flip.explicit()), math.Min(s, t.Flip.sexy())
			}
		}
		if st.incep && (e >= st.incAt || s >= st.incAt) {
			runs += 15 // one InceptionV3 run costs about 15 MobileNetV2 runs
			if t.Inc != nil {
				if st.incGeo {
					e, s = math.Sqrt(e*t.Inc.explicit()), math.Sqrt(s*t.Inc.sexy())
				} else if st.incMean {
					e, s = (e+t.Inc.explicit())/2, (s+t.Inc.sexy())/2
				} else {
					e, s = math.Min(e, t.Inc.explicit()), math.Min(s, t.Inc.sexy())
				}
			}
		}
		if t.Skin < st.skinMin {
			e = 0
		}
		if e < st.floorE {
			e = 0
		}
		if s < st.floorS {
			s = 0
		}
		explicit, sexy = math.Max(explicit, e), math.Max(sexy, s)
	}
	return explicit, sexy, runs
}

func strategies() []strategy {
	base := []strategy{
		{name: "old: decimated tiles"},
		{name: "area tiles", area: true},
		{name: "area, skip flat ≥ 0.9", area: true, flat: 0.9},
		{name: "area, skip flat ≥ 0.8", area: true, flat: 0.8},
		{name: "area, flip", area: true, flip: true, verifyAt: 0.2},
		{name: "area, skip flat ≥ 0.9, flip", area: true, flat: 0.9, flip: true, verifyAt: 0.2},
		{name: "decimated, flip", flip: true, verifyAt: 0.2},
		{name: "area, flat 0.9, skin ≥ 0.05", area: true, flat: 0.9, skinMin: 0.05},
		{name: "area, flat 0.9, skin ≥ 0.15", area: true, flat: 0.9, skinMin: 0.15},
		{name: "area, flat 0.9, edge ≥ 0.02", area: true, flat: 0.9, edgeMin: 0.02},
	}
	for _, f := range []float64{0.5, 0.6, 0.7, 0.8, 0.9} {
		base = append(base, strategy{name: fmt.Sprintf("area, flat 0.9, flip, tile floor %.1f/%.1f", f, f), area: true, flat: 0.9, flip: true, verifyAt: 0.2, floorE: f, floorS: f})
	}
	for _, f := range []float64{0.5, 0.7, 0.9} {
		base = append(base, strategy{name: fmt.Sprintf("area, flat 0.9, tile floor %.1f", f), area: true, flat: 0.9, floorE: f, floorS: f})
	}
	for _, at := range []float64{0.2, 0.25, 0.5} {
		base = append(base, strategy{name: fmt.Sprintf("area, flat 0.9, InceptionV3 verifies ≥ %.2f (min)", at), area: true, flat: 0.9, incep: true, incAt: at})
		base = append(base, strategy{name: fmt.Sprintf("area, flat 0.9, InceptionV3 verifies ≥ %.2f (mean)", at), area: true, flat: 0.9, incep: true, incAt: at, incMean: true})
	}
	base = append(base, strategy{name: "decimated, InceptionV3 verifies ≥ 0.25 (min)", incep: true, incAt: 0.25})
	for _, f := range []float64{0, 0.5, 0.6, 0.7, 0.8} {
		base = append(base, strategy{name: fmt.Sprintf("area, flat 0.9, InceptionV3 ≥ 0.25 (geometric mean), tile floor %.1f", f), area: true, flat: 0.9, incep: true, incAt: 0.25, incGeo: true, floorE: f, floorS: f})
	}
	return base
}

func analyse(w io.Writer, recs []Rec) {
	var dev, pos []Rec
	for _, r := range recs {
		if r.Split == "pos" {
			pos = append(pos, r)
		} else {
			dev = append(dev, r)
		}
	}
	fracs := map[float64]int{}
	for _, r := range pos {
		fracs[r.Frac]++
	}
	var fs []float64
	for f := range fracs {
		fs = append(fs, f)
	}
	sort.Float64s(fs)
	// Whole image alone (nsfwjs).
	wholeHeld := 0
	for _, r := range dev {
		if r.Whole.explicit() >= 0.25 || r.Whole.sexy() >= 0.5 {
			wholeHeld++
		}
	}
	fmt.Fprintf(w, "%d harmless development designs, %d with a pasted motif; the whole image alone (nsfwjs) holds %s somewhere\n",
		len(dev), len(pos), share(wholeHeld, len(dev)))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "strategy\tharmless held, general (explicit ≥ 0.5)\tharmless held, SA/AE (explicit ≥ 0.25 or suggestive ≥ 0.5)\tharmless blocked (explicit ≥ 0.85)\tmodel runs/design")
	for _, f := range fs {
		fmt.Fprintf(tw, "\tmotif %.0f%% caught", f*100)
	}
	fmt.Fprintln(tw, "\tmotif all")
	for _, st := range strategies() {
		hg, hs, bl, runs := 0, 0, 0, 0
		for _, r := range dev {
			e, s, n := st.apply(r)
			runs += n
			if e >= 0.5 {
				hg++
			}
			if e >= 0.25 || s >= 0.5 {
				hs++
			}
			if e >= 0.85 {
				bl++
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1f", st.name, share(hg, len(dev)), share(hs, len(dev)), share(bl, len(dev)), float64(runs)/float64(max(1, len(dev))))
		all := 0
		for _, f := range fs {
			c, n := 0, 0
			for _, r := range pos {
				if r.Frac != f {
					continue
				}
				n++
				if e, _, _ := st.apply(r); e >= 0.5 {
					c++
				}
			}
			all += c
			fmt.Fprintf(tw, "\t%d/%d", c, n)
		}
		fmt.Fprintf(tw, "\t%s\n", share(all, len(pos)))
	}
	tw.Flush()
	// The benign tiles that score high under the area strategy, with features.
	fmt.Fprintln(w, "\nharmless tiles scoring explicit ≥ 0.25 or suggestive ≥ 0.5 (area pre-filtered):")
	for _, r := range dev {
		for _, t := range r.Tiles {
			if t.Area.explicit() >= 0.25 || t.Area.sexy() >= 0.5 {
				fl := "-"
				if t.Flip != nil {
					fl = fmt.Sprintf("%.2f/%.2f", t.Flip.explicit(), t.Flip.sexy())
				}
				fmt.Fprintf(w, "  %s tile %v: area %.2f/%.2f dec %.2f/%.2f flip %s flat %.2f colors %d edge %.3f ent %.2f skin %.2f | %s\n",
					r.Name, t.Box, t.Area.explicit(), t.Area.sexy(), t.Dec.explicit(), t.Dec.sexy(), fl, t.Flat, t.Colors, t.Edge, t.Ent, t.Skin, r.Desc)
			}
		}
	}
	fmt.Fprintln(w, "\nmotif tiles (tile holding ≥ 90 % of the motif), features:")
	for _, r := range pos {
		best := -1
		for i, t := range r.Tiles {
			if t.Motif >= 0.9 && (best < 0 || t.Area.explicit() > r.Tiles[best].Area.explicit()) {
				best = i
			}
		}
		if best >= 0 {
			t := r.Tiles[best]
			fl := "-"
			if t.Flip != nil {
				fl = fmt.Sprintf("%.2f", t.Flip.explicit())
			}
			fmt.Fprintf(w, "  %.2f %s: area %.2f dec %.2f flip %s flat %.2f colors %d edge %.3f ent %.2f skin %.2f\n", r.Frac, r.Name, t.Area.explicit(), t.Dec.explicit(), fl, t.Flat, t.Colors, t.Edge, t.Ent, t.Skin)
		}
	}
}

// held counts harmless designs by what the default pack's NSFW rules do
// with their whole-design scores.
type held struct{ general, strict, blockGeneral, blockStrict int }

// add counts a design scoring e (sexual_explicit) and s
// (sexual_suggestive): review at explicit ≥ 0.5 in general markets and at
// explicit ≥ 0.25 or suggestive ≥ 0.5 in SA/AE; block at explicit ≥ 0.85,
// and in SA/AE at explicit ≥ 0.5 or suggestive ≥ 0.85.
func (h *held) add(e, s float64) {
	if e >= 0.5 {
		h.general++
	}
	if e >= 0.25 || s >= 0.5 {
		h.strict++
	}
	if e >= 0.85 {
		h.blockGeneral++
	}
	if e >= 0.5 || s >= 0.85 {
		h.blockStrict++
	}
}

// shares formats the four counts as shares of n.
func (h held) shares(n int) string {
	return share(h.general, n) + "\t" + share(h.strict, n) + "\t" + share(h.blockGeneral, n) + "\t" + share(h.blockStrict, n)
}

func share(k, n int) string {
	if n == 0 {
		return "-"
	}
	lo, hi := benigngen.Wilson(k, n)
	return fmt.Sprintf("%d (%.1f%% [%.1f–%.1f])", k, 100*float64(k)/float64(n), 100*lo, 100*hi)
}
