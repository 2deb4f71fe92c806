// Package analyzers defines the contract between the worker and the
// analyzers it runs: the design an analyzer sees, the typed result it returns
// and the findings it reports. Each analyzer lives in a subpackage (hashing,
// nsfw, bank, …) and is registered in one list in the composition root
// (cmd/muster/app); the policy reads their results through the leaf types in
// mustertype.
package analyzers

import (
	"context"

	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/mustertype"
)

// Design is a decoded design with the metadata its merchant gave.
type Design struct {
	ID          string
	TenantID    string
	SHA256      string
	Product     string
	Markets     []string
	Title       string
	Tags        []string
	Description string
	Image       *imaging.Image
}

// Analyzer inspects a design and returns a typed result. Implementations must
// be safe for concurrent use; Name and Version are stored with every analysis
// so a verdict can be reproduced.
type Analyzer interface {
	Name() string
	Version() string
	Analyze(ctx context.Context, d *Design) (Result, error)
}

// Result is what one analyzer produced for one design.
type Result struct {
	// Data is the analyzer's typed result; it is stored as JSON.
	Data any
	// Findings are the typed things the analyzer found, for the policy.
	Findings []mustertype.Finding
	// Versions lists the versions of data the result depends on besides the
	// analyzer itself (e.g. "bank:simple-icons" → "42"), stored with the verdict.
	Versions map[string]string
}
