// Package match finds reference shapes (logos, symbols) inside a design:
// it trims the design to its content, proposes candidate regions (connected
// components of colour clusters and of the alpha channel, their proximity
// groups and the groups inside multi-scale windows), hashes each candidate's
// binary shape with goimagehash's perceptual hash, looks the hash up in an
// exact Hamming index of reference variants (8 dihedral transforms × small
// rotations) and verifies every hit on aligned shape templates before
// reporting it.
package match

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/muster-dev/muster/bank/hamming"
)

// Version identifies the matching algorithm; it changes whenever results can.
// match-14 is the merge of two branches that each claimed match-13 (line art
// drawn with hairlines; parts of an arrangement and no relief for line art).
const Version = "match-14"

// EncodingVersion identifies the encoding of a Prepared reference
// (MarshalBinary); caches of prepared references are keyed by it. It changes
// only when the encoding or what Prepare computes changes, not with every
// Version: match-3 hashes elongated references at finer angles. Entries
// stored by an earlier encoding fail UnmarshalBinary with ErrStaleEncoding
// and are prepared again from their reference image (bank.Set does so).
const EncodingVersion = "match-4"

// Config tunes matching. The zero value means the defaults.
type Config struct {
	// WorkSize is the longer side, in pixels, the trimmed design is reduced to.
	WorkSize int
	// Radius is the Hamming radius of the index lookup (of 64 bits).
	Radius int
	// Probes is the number of a region's least certain hash bits (those
	// whose DCT coefficient lies nearest the median, which noise flips) that
	// the lookup ignores: the index returns the variants within Radius over
	// the other bits. A small radius keeps the index fast (multi-index
	// hashing beats a scan by far at radius 7, not at 12); ignoring the
	// unsure bits recovers the matches whose distance they make. Zero means
	// DefaultProbes, -1 none.
	Probes int
	// Angles are the rotations (degrees) of each dihedral reference variant.
	Angles []float64
	// Clusters is the number of colour clusters a design is split into.
	Clusters int
	// MinRelSize is the smallest candidate, as a share of the work image's
	// longer side.
	MinRelSize float64
	// DetailSize is the longer side of the second, detail pass for small
	// logos: when a design is reduced by 1.5× or more to WorkSize, it is
	// also reduced to DetailSize, and the regions smaller than the main
	// pass's smallest candidate (down to DetailMinRel of that side) are
	// proposed there, at most MaxDetailCandidates, largest first. -1: no
	// detail pass.
	DetailSize          int
	DetailMinRel        float64
	MaxDetailCandidates int
	// MaxVerify bounds verifications per candidate region.
	MaxVerify int
	// Threshold is the default outline F-score (0..1) a verified match
	// needs; each reference may carry its own (the bank's threshold).
	Threshold float64
	// Relief is how much lower the threshold is for a distinctive
	// reference: none up to reliefFrom pixels of outline information (a
	// disc has 16.5; generic brand shapes — a shield, three dots, a ring —
	// have under 100), rising linearly to Relief at reliefFull and above
	// (wordmarks, detailed emblems). A chance outline match of a detailed
	// shape is far less likely than of a simple one, while JPEG and noise
	// cost detailed outlines more F-score. References whose outline, with
	// the 1 px tolerance, covers most of the template (dense stripes,
	// squeezed wordmarks) get none: any busy region scores well against
	// them by chance. Negative means none.
	Relief float64
	// MinIoU is the intersection over union of the aligned shapes a match
	// needs besides the outline score (thin shapes have low IoU; blobs of
	// the wrong silhouette fail it).
	MinIoU float64
	// KeepGeneric reports references that are plain geometric shapes (a disc,
	// a triangle…); by default they are not reported by shape alone.
	KeepGeneric bool
	// MaxAspectRatio is the largest ratio between a candidate's and a
	// reference's aspect ratio (after rotation) that can still match.
	MaxAspectRatio float64
	// AmbiguousScore and AmbiguousEntries: a candidate region whose shape
	// verifies at AmbiguousScore or better against AmbiguousEntries
	// different references or more is a generic shape (a ring that five
	// brands use), and no match is reported for it.
	AmbiguousScore   float64
	AmbiguousEntries int
	// AmbiguityRadius is the wider lookup radius with which a region that
	// verified a match looks for further look-alike entries before it is
	// reported (look-alikes of a generic shape can lie beyond Radius; only
	// the few regions that verify pay for it).
	AmbiguityRadius int
	// Protected, if set, names references (by key) that are reported whenever
	// they verify: never treated as generic, never suppressed by the negative
	// bank or by an ambiguous region. The bank set protects its symbol banks:
	// for a hate symbol a needless review is cheap and a miss is not.
	Protected func(key string) bool
	// NoEvidence turns off the evidence rules of match-11 (what fills a
	// region's counters…; evidence.go), for measuring them.
	NoEvidence bool
	// OutlineParity also proposes every proximity group of the main pass
	// filled by parity (fillParity): outline renderings of logos of
	// several parts or with counters get their silhouette back. Off by
	// default: on dev seed 101 it costs p95 896 ms against 600 ms without
	// it per 1200² design on one core (make bench-logos, quiet), over the
	// 600 ms target, for 3 of 180 logo designs found on the dev seeds
	// (docs/bank.md, match-12).
	OutlineParity bool
}

// Defaults.
const (
	DefaultWorkSize       = 576
	DefaultRadius         = 7
	DefaultProbes         = 5
	DefaultClusters       = 8
	DefaultMinRelSize     = 0.1
	DefaultDetailSize     = 1152
	DefaultDetailMinRel   = 0.035
	DefaultMaxDetailCands = 300
	DefaultMaxVerify      = 32
	DefaultThreshold      = 0.97
	DefaultRelief         = 0.04
	DefaultMinIoU         = 0.55
	DefaultMaxAspectRatio = 1.3
	DefaultAmbiguousScore = 0.92
	// DefaultAmbiguousEntries: of the logos found in eval-logos seeds 1 and
	// 2, none resembled more than one other entry at DefaultAmbiguousScore.
	DefaultAmbiguousEntries = 3
	DefaultAmbiguityRadius  = 12
)

// DefaultAngles are the reference rotations hashed for each dihedral variant:
// ±30° in 5° steps (match-8; ±10° before). Designs turn art on the raster by
// up to ±30° (issue 14's held-out set); the hash stretches a region's box to
// a square, so a shape turned 20° hashes far from its upright variant.
var DefaultAngles = []float64{-30, -25, -20, -15, -10, -5, 0, 5, 10, 15, 20, 25, 30}

// WithDefaults returns c with zero fields set to the defaults.
func (c Config) WithDefaults() Config {
	if c.WorkSize == 0 {
		c.WorkSize = DefaultWorkSize
	}
	if c.Radius == 0 {
		c.Radius = DefaultRadius
	}
	if c.Probes == 0 {
		c.Probes = DefaultProbes
	}
	if len(c.Angles) == 0 {
		c.Angles = slices.Clone(DefaultAngles)
	}
	if c.Clusters == 0 {
		c.Clusters = DefaultClusters
	}
	if c.MinRelSize == 0 {
		c.MinRelSize = DefaultMinRelSize
	}
	if c.MaxVerify == 0 {
		c.MaxVerify = DefaultMaxVerify
	}
	if c.DetailSize == 0 {
		c.DetailSize = DefaultDetailSize
	}
	if c.DetailMinRel == 0 {
		c.DetailMinRel = DefaultDetailMinRel
	}
	if c.MaxDetailCandidates == 0 {
		c.MaxDetailCandidates = DefaultMaxDetailCands
	}
	if c.MinIoU == 0 {
		c.MinIoU = DefaultMinIoU
	}
	if c.Threshold == 0 {
		c.Threshold = DefaultThreshold
	}
	switch {
	case c.Relief == 0:
		c.Relief = DefaultRelief
	case c.Relief < 0:
		c.Relief = 0
	}
	if c.MaxAspectRatio == 0 {
		c.MaxAspectRatio = DefaultMaxAspectRatio
	}
	if c.AmbiguousScore == 0 {
		c.AmbiguousScore = DefaultAmbiguousScore
	}
	if c.AmbiguousEntries == 0 {
		c.AmbiguousEntries = DefaultAmbiguousEntries
	}
	if c.AmbiguityRadius == 0 {
		c.AmbiguityRadius = DefaultAmbiguityRadius
	}
	return c
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	switch {
	case c.WorkSize < 64 || c.WorkSize > 4096:
		return fmt.Errorf("match config: WorkSize %d outside 64..4096", c.WorkSize)
	case c.Radius < 0 || c.Radius > 32:
		return fmt.Errorf("match config: Radius %d outside 0..32", c.Radius)
	case c.Probes < -1 || c.Probes > 8:
		return fmt.Errorf("match config: Probes %d outside -1..8", c.Probes)
	case c.Clusters < 2 || c.Clusters > 32:
		return fmt.Errorf("match config: Clusters %d outside 2..32", c.Clusters)
	case c.MinRelSize <= 0 || c.MinRelSize >= 1:
		return fmt.Errorf("match config: MinRelSize %g outside (0,1)", c.MinRelSize)
	case c.Threshold <= 0 || c.Threshold > 1:
		return fmt.Errorf("match config: Threshold %g outside (0,1]", c.Threshold)
	case c.Relief > 0.2:
		return fmt.Errorf("match config: Relief %g above 0.2", c.Relief)
	case c.MinIoU < 0 || c.MinIoU > 1:
		return fmt.Errorf("match config: MinIoU %g outside [0,1]", c.MinIoU)
	case c.MaxAspectRatio < 1:
		return fmt.Errorf("match config: MaxAspectRatio %g below 1", c.MaxAspectRatio)
	case c.DetailSize != -1 && (c.DetailSize < c.WorkSize || c.DetailSize > 8192):
		return fmt.Errorf("match config: DetailSize %d outside WorkSize..8192 (or -1)", c.DetailSize)
	case c.DetailMinRel <= 0 || c.DetailMinRel >= 1:
		return fmt.Errorf("match config: DetailMinRel %g outside (0,1)", c.DetailMinRel)
	case c.MaxVerify < 1:
		return fmt.Errorf("match config: MaxVerify %d below 1", c.MaxVerify)
	case c.AmbiguousScore <= 0 || c.AmbiguousScore > 1:
		return fmt.Errorf("match config: AmbiguousScore %g outside (0,1]", c.AmbiguousScore)
	case c.AmbiguousEntries < 2:
		return fmt.Errorf("match config: AmbiguousEntries %d below 2", c.AmbiguousEntries)
	case c.AmbiguityRadius < c.Radius || c.AmbiguityRadius > 32:
		return fmt.Errorf("match config: AmbiguityRadius %d outside Radius..32", c.AmbiguityRadius)
	}
	for _, a := range c.Angles {
		if a < -45 || a > 45 {
			return fmt.Errorf("match config: angle %g outside ±45", a)
		}
	}
	return nil
}

// AltSep separates an entry's key from the name of one of its alternate
// artworks in a reference key (AlternateKey). An entry may have several
// references — its own artwork and other artists' drawings of the same
// mark — and a match of any of them reports the entry.
const AltSep = "\x1f"

// AlternateKey is the reference key of entry's alternate artwork name: add
// it with Add or Prepare like any reference; matches report entry. Remove
// and SetThreshold of entry apply to its alternates too.
func AlternateKey(entry, name string) string { return entry + AltSep + name }

// EntryOf returns the entry a reference key reports (the key itself, or the
// entry of an alternate artwork's key).
func EntryOf(key string) string {
	if i := strings.Index(key, AltSep); i >= 0 {
		return key[:i]
	}
	return key
}

// ErrEmptyReference is returned when a reference image has no shape in it.
var ErrEmptyReference = errors.New("reference has no shape")

// refSide is the longer side of the stored reference mask.
const refSide = 128

// The outline information (outlineInformation) at which threshold relief
// starts and at which it is full (Config.Relief).
const (
	reliefFrom = 150
	reliefFull = 300
)

// screenIoU is the overlap, before alignment, below which a hit is not
// verified.
const screenIoU = 0.45

// angleStep is the spacing of the verification templates' rotations.
const angleStep = 2.5

type reference struct {
	key       string
	entry     string // the entry reported: key without an alternate's name
	threshold float64
	generic   string  // name of the plain geometric shape this reference is, if any
	negScore  float64 // how well the negative bank reproduces this reference (0..1)
	thin      bool    // line art: shape overlap is judged with a 1 px tolerance
	info      float64 // outline information of the upright template (specificity.go)
	dense     bool    // its outline, 1 px tolerance included, covers most of the template
	tmpls     []template
	aspects   []float64
	gridMin   float64 // angle of tmpls[0]
	variants  []uint32
}

// templateAt returns the verification template of dihedral variant d turned
// by angle degrees, and its aspect ratio.
func (r *reference) templateAt(d int, angle float64) (template, float64, bool) {
	if d&4 != 0 {
		angle = -angle // R(a)∘D = D∘R(-a) for a mirror D
	}
	i := int(math.Round((angle - r.gridMin) / angleStep))
	if i < 0 || i >= len(r.tmpls) {
		return template{}, 0, false
	}
	a := r.aspects[i]
	if d&1 != 0 {
		a = 1 / a
	}
	return r.tmpls[i].dihedral(d), a, true
}

type variant struct {
	ref      *reference
	dihedral int
	angle    float64
}

// Matcher holds the references and finds them in designs. It is safe for
// concurrent use; Add and Remove may run while Match runs.
type Matcher struct {
	cfg      Config
	negative *Matcher // shapes that are not marks; nil for a negative matcher itself
	mu       sync.RWMutex
	index    *hamming.Index
	refs     map[string]*reference
	variants []variant // by index id; ref nil when free
	free     []uint32
}

// New returns an empty matcher.
func New(cfg Config) (*Matcher, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Matcher{cfg: cfg, index: hamming.NewIndex(), refs: map[string]*reference{}}, nil
}

// SetNegative installs a negative bank: a matcher holding common shapes
// that are not marks (HMA's "negative banks"). A verified match is dropped
// when its candidate region matches a negative shape at least as well, so a
// generic drop, star or shield does not report the one logo that looks like
// it. Pass nil to remove it.
//
// References that a negative shape itself verifies against at their match
// threshold are not reported at all (Generic returns GenericNegative):
// SetNegative scores every reference against neg, which takes a few
// seconds for a bank of thousands; matching goes on meanwhile.
func (m *Matcher) SetNegative(neg *Matcher) {
	m.mu.Lock()
	m.negative = neg
	refs := make([]*reference, 0, len(m.refs))
	for _, r := range m.refs {
		refs = append(refs, r)
	}
	m.mu.Unlock()
	scores := make([]float64, len(refs))
	if neg != nil {
		for i, r := range refs {
			t, asp := uprightTemplate(r.tmpls, r.aspects)
			scores[i] = neg.negativeScore(t, asp)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.negative != neg {
		return // replaced meanwhile; that call scores the references
	}
	for i, r := range refs {
		r.negScore = scores[i]
	}
}

// Generic tells why a reference is not reported by shape alone: the plain
// geometric shape it is ("disc", "ring"…), GenericLowInformation,
// GenericNegative, or "" for a distinctive reference (or an unknown key).
func (m *Matcher) Generic(key string) string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.refs[key]
	switch {
	case !ok:
		return ""
	case r.generic != "":
		return r.generic
	case r.negScore >= m.threshold(r):
		return GenericNegative
	case m.inheritsGeneric(r):
		if p := m.refs[r.entry]; p.generic != "" {
			return p.generic
		}
		return GenericNegative
	}
	return ""
}

// inheritsGeneric reports whether r is another artist's drawing of an
// entry whose own artwork is not reported by shape alone (a plain shape,
// low information, or reproduced by the negative bank): the mark is
// generic whoever draws it (eval-logos2: an alternate triangle of vercel,
// itself a plain triangle, flagged a brand-free design). Called with m.mu
// held.
func (m *Matcher) inheritsGeneric(r *reference) bool {
	if r.entry == r.key {
		return false
	}
	p := m.refs[r.entry]
	return p != nil && (p.generic != "" || p.negScore >= m.threshold(p))
}

// baseThreshold is r's threshold before relief.
func (m *Matcher) baseThreshold(r *reference) float64 {
	if r.threshold > 0 {
		return r.threshold
	}
	return m.cfg.Threshold
}

// threshold is the verification threshold of r: its own or the default,
// less the relief its outline information earns (see Config.Relief).
func (m *Matcher) threshold(r *reference) float64 {
	t := m.cfg.Threshold
	if r.threshold > 0 {
		t = r.threshold
	}
	if r.dense || r.thin {
		// Line art earns no relief either (match-14): each thin stroke has
		// two outline edges a few pixels apart, so its outline information
		// counts every stroke twice, and stripes and hatching — a stripe
		// ground, an align-justify icon — match line art of bars by chance
		// (dev seeds 104–106: runkeeper, information 480, at 0.93–0.95 on
		// five designs; it cost jenkins at 0.954, microsoftsqlserver at
		// 0.947 and nokia at 0.958 on dev seeds 101, 104–106, docs/bank.md).
		return t
	}
	f := (r.info - reliefFrom) / (reliefFull - reliefFrom)
	return t - m.cfg.Relief*min(1, max(0, f))
}

// bestScore returns the best verified score of any reference for a
// candidate (used on the negative bank).
func (m *Matcher) bestScore(c *candidate) float64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	best := 0.0
	hits := m.lookup(nil, c)
	tried := map[*reference]bool{}
	n := 0
	for _, h := range hits {
		if n >= m.cfg.MaxVerify {
			break
		}
		v := m.variants[h.ID]
		if v.ref == nil || tried[v.ref] {
			continue
		}
		tried[v.ref] = true
		n++
		iou, edgeF, _, _ := m.verify(c, v)
		if iou >= m.cfg.MinIoU && edgeF > best {
			best = edgeF
		}
	}
	return best
}

// Config returns the effective configuration.
func (m *Matcher) Config() Config { return m.cfg }

// Len returns the number of references.
func (m *Matcher) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.refs)
}

// Variants returns the number of hashed reference variants in the index.
func (m *Matcher) Variants() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.index.Len()
}

// Prepared is a reference whose variants are hashed, ready to be added. It
// lets callers hash outside the matcher's lock (and in parallel).
type Prepared struct {
	key       string
	threshold float64
	generic   string
	tmpls     []template
	aspects   []float64
	gridMin   float64
	hashes    []preparedHash
}

// Generic names the plain geometric shape (disc, rectangle, triangle, ring…)
// the reference is indistinguishable from, GenericLowInformation for a shape
// whose outline tells less than a disc's, or "" for a distinctive shape.
// Generic references are not reported by shape alone. (AddPrepared derives
// the low-information verdict again, for encodings from earlier versions;
// reproduction by the negative bank is known only to a Matcher: see
// Matcher.Generic.)
func (p *Prepared) Generic() string { return p.generic }

type preparedHash struct {
	dihedral int
	angle    float64
	hash     uint64
}

// Key returns the reference key.
func (p *Prepared) Key() string { return p.key }

// Hashes returns the variant hashes (for storage).
func (p *Prepared) Hashes() []uint64 {
	out := make([]uint64, len(p.hashes))
	for i, h := range p.hashes {
		out[i] = h.hash
	}
	return out
}

// Prepare normalises a reference shape mask and hashes its variants.
// threshold ≤ 0 means the matcher's default.
func (m *Matcher) Prepare(key string, shape Mask, threshold float64) (*Prepared, error) {
	t := shape.Trim()
	if t.W < 2 || t.H < 2 {
		return nil, fmt.Errorf("prepare %s: %w", key, ErrEmptyReference)
	}
	s := float64(refSide) / float64(max(t.W, t.H))
	w, h := max(1, int(float64(t.W)*s+0.5)), max(1, int(float64(t.H)*s+0.5))
	base := t.Resize(w, h)
	for i, v := range base.Pix {
		if v >= 128 {
			base.Pix[i] = 255
		} else {
			base.Pix[i] = 0
		}
	}
	p := &Prepared{key: key, threshold: threshold}
	maxA := 0.0
	for _, a := range m.cfg.Angles {
		maxA = math.Max(maxA, math.Abs(a))
	}
	p.gridMin = -(maxA + angleStep)
	// Each angle is rotated once (and trimmed): the templates at multiples
	// of 5° share the hashes' rotations.
	turned := map[float64]Mask{}
	rot := func(a float64) Mask {
		t, ok := turned[a]
		if !ok {
			t = base.Rotate(a).Trim()
			turned[a] = t
		}
		return t
	}
	for a := p.gridMin; a <= -p.gridMin+1e-9; a += angleStep {
		t, asp := makeTemplate(rot(a))
		p.tmpls = append(p.tmpls, t)
		p.aspects = append(p.aspects, asp)
	}
	t0, _ := makeTemplate(base)
	p.generic = genericShape(&t0)
	if p.generic == "" && lowInformation(&t0) {
		p.generic = GenericLowInformation
	}
	angles := referenceAngles(m.cfg.Angles, float64(max(w, h))/float64(max(1, min(w, h))))
	// A quarter turn commutes with a rotation and a mirror reverses it
	// (R(a)∘Q = Q∘R(a), R(a)∘M = M∘R(−a)), and stretching a shape's box to
	// the hash's square commutes with the dihedral transforms: so the
	// variant (d, a) is D(d) of the square of the base turned by a, or by
	// −a when d mirrors.
	squares := map[float64]Mask{}
	for d := 0; d < 8; d++ {
		for _, a := range angles {
			src := a
			if d&4 != 0 {
				src = -a
			}
			sq, ok := squares[src]
			if !ok {
				t := rot(src)
				if t.W == 0 || t.H == 0 {
					return nil, fmt.Errorf("prepare %s: %w", key, ErrEmptyReference)
				}
				sq = t.Resize(hashSize, hashSize)
				squares[src] = sq
			}
			hv, err := hashSquare(sq.Dihedral(d))
			if err != nil {
				return nil, fmt.Errorf("prepare %s: %w", key, err)
			}
			p.hashes = append(p.hashes, preparedHash{dihedral: d, angle: a, hash: hv})
		}
	}
	return p, nil
}

// referenceAngles returns the rotations hashed for a reference of the given
// elongation (longer side / shorter side): the configured angles, and for
// an elongated shape also the angles between them, halving the step at
// elongation 2 and again at 4. The hash stretches a shape's box to a
// square, so a wordmark turned by a degree changes its box height, and its
// hash, by as much as a compact shape turned by several.
func referenceAngles(angles []float64, elongation float64) []float64 {
	out := slices.Clone(angles)
	slices.Sort(out)
	for split := 2.0; elongation >= split && split <= 4; split *= 2 {
		var finer []float64
		for i, a := range out {
			if i > 0 {
				finer = append(finer, (out[i-1]+a)/2)
			}
			finer = append(finer, a)
		}
		out = finer
	}
	return out
}

// Add prepares and adds a reference, replacing any with the same key.
func (m *Matcher) Add(key string, shape Mask, threshold float64) error {
	p, err := m.Prepare(key, shape, threshold)
	if err != nil {
		return err
	}
	m.AddPrepared(p)
	return nil
}

// AddPrepared adds a prepared reference, replacing any with the same key.
//
// The reference's specificity is derived here, not stored: references
// prepared by an earlier Version are judged by the same measures.
func (m *Matcher) AddPrepared(p *Prepared) {
	up, asp := uprightTemplate(p.tmpls, p.aspects)
	generic := p.generic
	if generic == "" && lowInformation(up) {
		generic = GenericLowInformation
	}
	m.mu.RLock()
	neg := m.negative
	m.mu.RUnlock()
	negScore := 0.0
	if neg != nil {
		negScore = neg.negativeScore(up, asp)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.negative != neg { // SetNegative ran meanwhile
		negScore = 0
		if m.negative != nil {
			negScore = m.negative.negativeScore(up, asp)
		}
	}
	m.removeLocked(p.key)
	r := &reference{key: p.key, entry: EntryOf(p.key), threshold: p.threshold, generic: generic, negScore: negScore, thin: thin(up), info: outlineInformation(up), dense: outlineDensity(up) >= denseOutline, tmpls: p.tmpls, aspects: p.aspects, gridMin: p.gridMin}
	for _, h := range p.hashes {
		var id uint32
		if n := len(m.free); n > 0 {
			id = m.free[n-1]
			m.free = m.free[:n-1]
		} else {
			id = uint32(len(m.variants))
			m.variants = append(m.variants, variant{})
		}
		m.variants[id] = variant{ref: r, dihedral: h.dihedral, angle: h.angle}
		_ = m.index.Add(id, h.hash) // ids come from the free list: never live
		r.variants = append(r.variants, id)
	}
	m.refs[p.key] = r
}

// Remove deletes a reference and its alternate artworks; it reports
// whether it existed.
func (m *Matcher) Remove(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	ok := m.removeLocked(key)
	if !strings.Contains(key, AltSep) {
		for k := range m.refs {
			if strings.HasPrefix(k, key+AltSep) {
				m.removeLocked(k)
			}
		}
	}
	return ok
}

func (m *Matcher) removeLocked(key string) bool {
	r, ok := m.refs[key]
	if !ok {
		return false
	}
	for _, id := range r.variants {
		m.index.Remove(id)
		m.variants[id] = variant{}
		m.free = append(m.free, id)
	}
	delete(m.refs, key)
	return true
}

// SetThreshold changes one reference's verification threshold.
func (m *Matcher) SetThreshold(key string, threshold float64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.refs[key]
	if ok {
		r.threshold = threshold
	}
	if !strings.Contains(key, AltSep) {
		for k, a := range m.refs {
			if strings.HasPrefix(k, key+AltSep) {
				a.threshold = threshold
			}
		}
	}
	return ok
}

// Match is one verified reference found in a design.
type Match struct {
	Key      string          `json:"key"`
	Score    float64         `json:"score"`    // the outline F-score (EdgeF), 0..1
	IoU      float64         `json:"iou"`      // intersection over union of the aligned shapes
	EdgeF    float64         `json:"edge_f"`   // outline F-score (1 px tolerance) of the aligned shapes
	Distance int             `json:"distance"` // Hamming distance of the region's hash to the variant's (all 64 bits; the lookup ignores the Probes least certain)
	Box      image.Rectangle `json:"box"`      // design pixel coordinates
	Dihedral int             `json:"dihedral"` // reference transform that matched: quarter turns, +4 if mirrored
	Angle    float64         `json:"angle"`    // rotation in degrees of the matched reference variant
	Inverted bool            `json:"inverted"` // the shape was found as holes in a filled area
	Occluded bool            `json:"occluded"` // part of it was hidden (text or art across it) and scored as unseen
	Context  string          `json:"context"`  // what encloses it: "disc", "flag", "disc_on_flag" or "none"
	workBox  image.Rectangle
	diag     string
}

// Diagnostics describes the evidence of a match beyond its shape (the
// region's kind, the reference's outline information, the negative
// bank's scores, look-alikes, the region's size, what fills its counters)
// for evaluations; it is not part of the findings contract.
func (x Match) Diagnostics() string { return x.diag }

// Stats describe the work one Match call did.
type Stats struct {
	WorkW       int     `json:"work_w"`
	WorkH       int     `json:"work_h"`
	Components  int     `json:"components"`
	Candidates  int     `json:"candidates"`
	Hits        int     `json:"hits"`
	Verified    int     `json:"verified"`
	Matches     int     `json:"matches"`
	Suppressed  int     `json:"suppressed"` // verified matches dropped by the negative bank
	Ambiguous   int     `json:"ambiguous"`  // regions dropped for resembling several entries
	Text        int     `json:"text"`       // verified matches dropped as glyphs of a text line
	Pattern     int     `json:"pattern"`    // verified matches dropped as pieces of a periodic ground
	Enclosed    int     `json:"enclosed"`   // verified filled outlines dropped for framing art (enclosesArt)
	Context     int     `json:"context"`    // verified matches dropped for want of evidence beyond the shape (lacksEvidence)
	ElapsedMS   float64 `json:"elapsed_ms"`
	SegmentMS   float64 `json:"segment_ms"`
	HashMS      float64 `json:"hash_ms"`
	VerifyMS    float64 `json:"verify_ms"`
	References  int     `json:"references"`
	IndexedHash int     `json:"indexed_hashes"`
}

// candidate is a proposed region: a set of components (or holes) in the work image.
type candidate struct {
	mask      Mask
	box       image.Rectangle // work coordinates
	inverted  bool
	filled    bool // a component with its holes filled (a logo drawn as an outline)
	outlined  bool // a group of outline rings filled by parity (fillParity)
	hash      uint64
	care      uint64 // the hash bits the lookup counts (not the least certain)
	tmpl      template
	aspect    float64
	tmplDone  bool
	thick     template // tmpl dilated by a pixel, for line-art references
	thickDone bool
	detail    bool // proposed by the detail pass: box in the detail work's coordinates
	// lineArt, when set, is the line-art reduction of a region of thin
	// strokes (lineArtShape), hashed and templated instead of mask.
	lineArt Mask
	// occluded, when set, are the pixels of mask hidden by an occluder
	// (filled back or not; completeRuns); hidden is their template, which
	// verification leaves out.
	occluded Mask
	hidden   *template
	// members are the components (indices into comps, its pass's) whose
	// union the region is; nil for holes. text caches inTextLine.
	members []int32
	comps   []component
	text    int8 // 0 unknown, 1 text, -1 not
	// host is the component whose holes an inverted region is (when
	// hasHost). seg is the segmentation of the region's pass (inPattern);
	// pattern caches inPattern as text does inTextLine.
	host     int32
	hasHost  bool
	seg      *segmentation
	pattern  int8
	enclosed int8
	// scale is design pixels per pixel of the region's pass; ev caches
	// evidence (evDone).
	scale  float64
	ev     regionEvidence
	evDone bool
}

// framesArt reports (once) whether a filled region covers art rather
// than the ground (enclosesArt); other regions never do.
func (c *candidate) framesArt() bool {
	if c.enclosed == 0 {
		c.enclosed = -1
		if c.filled && len(c.members) > 0 && c.seg != nil {
			self := c.members[0]
			if comp := &c.seg.comps[self]; comp.layer == 0 && enclosesArt(c.seg, c.mask, c.box, int(comp.label), self) {
				c.enclosed = 1
			}
		}
	}
	return c.enclosed > 0
}

// isPattern reports (once) whether the region is a piece of a periodic
// ground (inPattern): a union of components of one colour, or the holes
// of a component, judged by the colour around them.
func (c *candidate) isPattern() bool {
	if c.pattern == 0 {
		c.pattern = -1
		colour := int32(-1)
		switch {
		case len(c.members) > 0:
			colour = c.members[0]
		case c.hasHost:
			colour = c.host
		}
		if colour >= 0 && inPattern(c.seg, colour, c.box) {
			c.pattern = 1
		}
	}
	return c.pattern > 0
}

// isText reports (once) whether the region is a glyph of a text line
// (inTextLine).
func (c *candidate) isText() bool {
	if c.text == 0 {
		c.text = -1
		if inTextLine(c.comps, c.members, c.box) {
			c.text = 1
		}
	}
	return c.text > 0
}

// makeTemplates makes c's template (and its occluder's) once.
func (c *candidate) makeTemplates() {
	if c.tmplDone {
		return
	}
	c.tmpl, c.aspect = queryTemplate(c.shapeMask())
	if c.occluded.W > 0 {
		h := occlusionTemplate(c.mask, c.occluded)
		c.hidden = &h
	}
	c.tmplDone = true
}

// Find looks for every reference in img (upright, non-premultiplied pixels).
func (m *Matcher) Find(ctx context.Context, img *image.NRGBA) ([]Match, Stats, error) {
	start := time.Now()
	var st Stats
	if img == nil || img.Rect.Empty() {
		return nil, st, errors.New("match: empty image")
	}
	w := prepare(img, m.cfg.WorkSize)
	st.WorkW, st.WorkH = w.W, w.H
	cands, comps := m.propose(w)
	var wd *work
	if m.cfg.DetailSize > m.cfg.WorkSize && w.scale >= 1.5 {
		wd = prepare(img, m.cfg.DetailSize)
		for _, c := range m.proposeDetail(wd) {
			c.detail = true
			cands = append(cands, c)
		}
	}
	st.Components = len(comps)
	st.Candidates = len(cands)
	st.SegmentMS = ms(time.Since(start))
	if err := ctx.Err(); err != nil {
		return nil, st, err
	}

	t1 := time.Now()
	scratch := make([]float64, hashSize*hashSize)
	for i := range cands {
		h, order, err := hashWithMargins(cands[i].shapeMask(), scratch)
		if err != nil {
			continue
		}
		cands[i].hash = h
		cands[i].care = careMask(order, m.cfg.Probes)
	}
	st.HashMS = ms(time.Since(t1))

	t2 := time.Now()
	m.mu.RLock()
	defer m.mu.RUnlock()
	st.References, st.IndexedHash = len(m.refs), m.index.Len()
	found := map[string]*best{}
	var hits []hamming.Hit
	for ci := range cands {
		if ci%32 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, st, err
			}
		}
		c := &cands[ci]
		hits = m.lookup(hits[:0], c)
		st.Hits += len(hits)
		for _, b := range m.verifyCandidate(c, hits, &st) {
			b.match.diag = diagnostics(c, b.ref, c.evidence(), b.neg, b.similar)
			if prev := found[b.ref.entry]; prev == nil || b.match.Score > prev.match.Score {
				if c.detail {
					b.match.Box = wd.toDesign(c.box)
					b.match.workBox = w.fromDesign(b.match.Box)
				} else {
					b.match.Box = w.toDesign(c.box)
				}
				found[b.ref.entry] = &best{ref: b.ref, match: b.match, protected: b.protected, neg: b.neg, similar: b.similar}
			}
		}
	}
	st.VerifyMS = ms(time.Since(t2))
	out := make([]Match, 0, len(found))
	for _, b := range oneMarkPerPlace(found) {
		b.match.Context = enclosure(w, comps, b.match.workBox)
		out = append(out, b.match)
	}
	slices.SortFunc(out, func(a, b Match) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		if a.Key < b.Key {
			return -1
		}
		if a.Key > b.Key {
			return 1
		}
		return 0
	})
	st.Matches = len(out)
	st.ElapsedMS = ms(time.Since(start))
	return out, st, nil
}

// careMask returns the bits a lookup counts: all but the k least certain
// (order lists bit positions from least to most certain).
func careMask(order [64]uint8, k int) uint64 {
	care := ^uint64(0)
	for i := 0; i < k; i++ {
		care &^= 1 << order[i]
	}
	return care
}

// lookup appends the index entries within the radius of c's hash over its
// care bits, nearest first (then by id). It is called with m.mu read-locked.
func (m *Matcher) lookup(dst []hamming.Hit, c *candidate) []hamming.Hit {
	return m.index.SearchMasked(dst, c.hash, c.lookupCare(), m.cfg.Radius)
}

// lookupCare returns the hash bits a lookup counts: all but the unsure ones
// (all, for a candidate hashed without margins).
func (c *candidate) lookupCare() uint64 {
	if c.care == 0 {
		return ^uint64(0)
	}
	return c.care
}

// best is a verified match of one reference.
type best struct {
	match     Match
	ref       *reference
	protected bool
	neg       float64 // the negative bank's best score for the region (-1: not computed)
	similar   int     // entries the region resembles at AmbiguousScore
}

// verifyCandidate screens and verifies the index hits of one candidate
// region (nearest first, within the MaxVerify budget) and returns the
// matches to report for it: none when the region resembles
// Config.AmbiguousEntries references or more (a generic shape), and none of
// a reference that is generic or that the negative bank explains at least
// as well. It is called with m.mu read-locked.
func (m *Matcher) verifyCandidate(c *candidate, hits []hamming.Hit, st *Stats) []best {
	var out []best
	negBest := -1.0 // not yet computed
	verified, screened := 0, 0
	tried := map[*reference]bool{}
	similar := map[string]bool{} // entries (not references) the region resembles
	for _, h := range hits {
		if verified >= m.cfg.MaxVerify || screened >= 8*m.cfg.MaxVerify {
			break
		}
		v := m.variants[h.ID]
		if v.ref == nil || tried[v.ref] {
			continue
		}
		protected := m.cfg.Protected != nil && m.cfg.Protected(v.ref.entry)
		// A generic reference is never reported, but a region that
		// resembles it is evidence of a generic region: it counts towards
		// the ambiguity rule (match-9; before, making rings generic let a
		// region that resembled rings and medusa report medusa).
		generic := (v.ref.generic != "" || m.inheritsGeneric(v.ref)) && !m.cfg.KeepGeneric && !protected
		c.makeTemplates()
		// Cheap screens first, so the verification budget goes to
		// plausible entries.
		aspectOK, ok := m.screen(c, v)
		if !aspectOK {
			continue
		}
		screened++
		if !ok {
			continue
		}
		tried[v.ref] = true
		verified++
		st.Verified++
		iou, edgeF, d, a := m.verify(c, v)
		if iou < m.cfg.MinIoU {
			continue
		}
		if edgeF >= m.cfg.AmbiguousScore {
			similar[v.ref.entry] = true
		}
		if generic {
			continue
		}
		thr := m.threshold(v.ref)
		if edgeF < thr || (v.ref.negScore >= thr && !m.cfg.KeepGeneric && !protected) {
			continue
		}
		if (c.hidden != nil || c.outlined) && !protected && (v.ref.info < reliefFrom || edgeF < m.baseThreshold(v.ref)) {
			// Part of the region is unseen: only a distinctive reference
			// (outline information where relief starts) may match it, at
			// the full threshold (dev seed 102: a completed region matched
			// 1password, a ring with a bar, on a brand-free icon). So for
			// outline rings filled by parity, whose filling is inferred
			// (match-11, dev seed 101: two rings filled matched flickr's
			// two discs, outline information 51).
			continue
		}
		if !protected && c.isText() {
			st.Text++
			continue
		}
		if !protected && c.isPattern() {
			st.Pattern++
			continue
		}
		if !protected && c.framesArt() {
			st.Enclosed++
			continue
		}
		negScore := func() float64 {
			if negBest < 0 && m.negative != nil {
				negBest = m.negative.bestScore(c)
			}
			return negBest
		}
		if !protected && m.lacksEvidence(c, v.ref, edgeF, negScore) != "" {
			st.Context++
			continue
		}
		if m.negative != nil && !protected {
			if negScore() >= edgeF {
				st.Suppressed++
				continue
			}
		}
		code, _ := m.index.Code(h.ID)
		out = append(out, best{ref: v.ref, protected: protected, match: Match{
			Key: v.ref.entry, Score: edgeF, IoU: iou, EdgeF: edgeF, Distance: bits.OnesCount64(code ^ c.hash),
			Dihedral: d, Angle: a, Inverted: c.inverted, Occluded: c.hidden != nil, workBox: c.box,
		}})
	}
	if len(out) > 0 && len(similar) < m.cfg.AmbiguousEntries && m.cfg.AmbiguityRadius > m.cfg.Radius {
		m.lookAlikes(c, tried, similar, m.cfg.AmbiguousEntries)
	}
	if len(similar) >= m.cfg.AmbiguousEntries && len(out) > 0 {
		st.Ambiguous++
		kept := out[:0]
		for _, b := range out {
			if b.protected {
				kept = append(kept, b)
			}
		}
		return kept
	}
	for i := range out {
		out[i].neg, out[i].similar = negBest, len(similar)
	}
	// One region is one mark: of the entries that verify on it, only the
	// best is reported (protected ones always).
	top := -1
	for i, b := range out {
		if !b.protected && (top < 0 || combine(b.match.IoU, b.match.Score) > combine(out[top].match.IoU, out[top].match.Score)) {
			top = i
		}
	}
	kept := out[:0]
	for i, b := range out {
		if b.protected || i == top {
			kept = append(kept, b)
		}
	}
	return kept
}

// samePlace is the box overlap (intersection over union) at which two
// findings are taken to be of one mark; samePlaceInside the share of the
// smaller box inside the larger.
const (
	samePlace       = 0.5
	samePlaceInside = 0.8
)

// oneMarkPerPlace returns the findings (best region per entry) less those
// whose box covers the spot of a better-scoring finding's (samePlaceAs):
// regions proposed for one spot of the design (a component, its group,
// its completed form) must not report two marks there. Protected
// findings are always kept and never drop others.
func oneMarkPerPlace(found map[string]*best) []*best {
	all := make([]*best, 0, len(found))
	for _, b := range found {
		all = append(all, b)
	}
	slices.SortFunc(all, func(a, b *best) int {
		if ca, cb := combine(a.match.IoU, a.match.Score), combine(b.match.IoU, b.match.Score); ca != cb {
			if ca > cb {
				return -1
			}
			return 1
		}
		return strings.Compare(a.match.Key, b.match.Key)
	})
	var kept []*best
	for _, b := range all {
		dup := false
		if !b.protected {
			for _, k := range kept {
				if !k.protected && samePlaceAs(k.match.Box, b.match.Box) {
					dup = true
					break
				}
			}
		}
		if !dup {
			kept = append(kept, b)
		}
	}
	return kept
}

// samePlaceAs reports whether two findings' boxes cover one spot: they
// overlap by samePlace (intersection over union) or more, or one lies
// mostly (samePlaceInside of its area) inside the other — a part of a
// mark matched as a mark of its own (dev seed 101: `elevenlabs` inside the
// `braintrust` found on one chat icon).
func samePlaceAs(a, b image.Rectangle) bool {
	in := a.Intersect(b)
	if in.Empty() {
		return false
	}
	ia := float64(in.Dx() * in.Dy())
	aa, ab := float64(a.Dx()*a.Dy()), float64(b.Dx()*b.Dy())
	return ia/(aa+ab-ia) >= samePlace || ia >= samePlaceInside*min(aa, ab)
}

// lookAlikes adds to similar, until it holds want, the entries not yet
// tried that c's region resembles at Config.AmbiguousScore, looking up to
// AmbiguityRadius (nearest first, within the MaxVerify budget). It is
// called with m.mu read-locked.
func (m *Matcher) lookAlikes(c *candidate, tried map[*reference]bool, similar map[string]bool, want int) {
	verified := 0
	for _, h := range m.index.SearchMasked(nil, c.hash, c.lookupCare(), m.cfg.AmbiguityRadius) {
		if len(similar) >= want || verified >= m.cfg.MaxVerify {
			break
		}
		v := m.variants[h.ID]
		if v.ref == nil || tried[v.ref] || similar[v.ref.entry] {
			continue
		}
		if _, ok := m.screen(c, v); !ok {
			continue
		}
		tried[v.ref] = true
		verified++
		if iou, edgeF, _, _ := m.verify(c, v); iou >= m.cfg.MinIoU && edgeF >= m.cfg.AmbiguousScore {
			similar[v.ref.entry] = true
		}
	}
}

// screen applies the cheap screens to an index hit: whether the aspect
// ratios fit (aspectOK), and whether the shapes then overlap enough as they
// lie — thickened by a pixel for line art, which a pixel off overlaps
// little (ok). c's template must be made.
func (m *Matcher) screen(c *candidate, v variant) (aspectOK, ok bool) {
	t, asp, found := v.ref.templateAt(v.dihedral, v.angle)
	if !found || !m.aspectFits(c.aspect, asp) {
		return false, false
	}
	if !v.ref.thin {
		return true, overlap(&c.tmpl, &t) >= screenIoU
	}
	if !c.thickDone {
		c.thick, c.thickDone = c.tmpl.dilate(), true
	}
	td := t.dilate()
	return true, overlap(&c.thick, &td) >= screenIoU
}

// aspectFits reports whether two aspect ratios differ by at most
// Config.MaxAspectRatio.
func (m *Matcher) aspectFits(a, b float64) bool {
	r := a / b
	if r < 1 {
		r = 1 / r
	}
	return r <= m.cfg.MaxAspectRatio
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/10) / 100 }

// verify compares a candidate with a reference variant, refining the angle
// by one template step either way, and returns the best shape IoU, outline
// F-score and the transform.
func (m *Matcher) verify(c *candidate, v variant) (iou, edgeF float64, dihedral int, angle float64) {
	best := -1.0
	for _, da := range []float64{0, -angleStep, angleStep} {
		a := v.angle + da
		t, asp, ok := v.ref.templateAt(v.dihedral, a)
		if !ok {
			continue
		}
		if !m.aspectFits(c.aspect, asp) {
			continue
		}
		var u, tu, f float64
		if c.hidden != nil {
			u, tu, f = similarityMasked(&c.tmpl, &t, c.hidden, 2)
		} else {
			u, tu, f = similarityTol(&c.tmpl, &t, 2)
		}
		if v.ref.thin {
			u = max(u, tu)
		}
		if s := combine(u, f); s > best {
			best, iou, edgeF, dihedral, angle = s, u, f, v.dihedral, a
		}
	}
	return iou, edgeF, dihedral, angle
}

// combine ranks verification results: the outline F-score, ties broken by IoU.
func combine(iou, edgeF float64) float64 { return edgeF + iou/1000 }
