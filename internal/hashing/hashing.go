// Package hashing is the normalisation-and-hashing analyzer: it records the
// normalised form of a design (upright size, transparency) and its whole-image
// perceptual hashes (goimagehash pHash, dHash, aHash).
package hashing

import (
	"context"
	"fmt"
	"image/color"

	"github.com/corona10/goimagehash"

	"github.com/muster-dev/muster/internal/analysis"
)

// Analyzer computes whole-image perceptual hashes.
type Analyzer struct{}

// Result is the analyzer's stored result.
type Result struct {
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	MediaType   string `json:"media_type"`
	HasAlpha    bool   `json:"has_alpha"`
	Orientation int    `json:"orientation"`
	// Hashes of the design composited on white, as goimagehash strings ("p:…").
	PHash string `json:"phash"`
	DHash string `json:"dhash"`
	AHash string `json:"ahash"`
}

// Name is "hash".
func (Analyzer) Name() string { return "hash" }

// Version names the hashing library and this analyzer's revision.
func (Analyzer) Version() string { return "goimagehash-v1.1.0/1" }

// Analyze hashes the design.
func (a Analyzer) Analyze(ctx context.Context, d *analysis.Design) (analysis.Result, error) {
	im := d.Image
	flat := im.Flatten(color.White)
	p, err := goimagehash.PerceptionHash(flat)
	if err != nil {
		return analysis.Result{}, fmt.Errorf("phash: %w", err)
	}
	dh, err := goimagehash.DifferenceHash(flat)
	if err != nil {
		return analysis.Result{}, fmt.Errorf("dhash: %w", err)
	}
	ah, err := goimagehash.AverageHash(flat)
	if err != nil {
		return analysis.Result{}, fmt.Errorf("ahash: %w", err)
	}
	return analysis.Result{Data: Result{
		Width: im.Width(), Height: im.Height(), MediaType: im.MediaType, HasAlpha: im.HasAlpha, Orientation: im.Orientation,
		PHash: p.ToString(), DHash: dh.ToString(), AHash: ah.ToString(),
	}}, nil
}
