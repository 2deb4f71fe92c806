package review

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/muster-dev/muster/mustertype"
)

// Agreement is how often reviewers agreed with the automated outcome.
type Agreement struct {
	// Key is a rule code or an analyzer name.
	Key     string  `json:"key"`
	Decided int     `json:"decided"`
	Agreed  int     `json:"agreed"`
	Rate    float64 `json:"rate"`
}

// QAReport measures the automated pipeline's precision from decided QA
// samples: an item agrees when the reviewer's final outcome equals the
// automated one in every market.
type QAReport struct {
	Decided int     `json:"decided"`
	Agreed  int     `json:"agreed"`
	Rate    float64 `json:"rate"`
	// ByCode is per rule code that decided the sample; ByAnalyzer per
	// analyzer whose findings the rules relied on.
	ByCode     []Agreement `json:"by_code"`
	ByAnalyzer []Agreement `json:"by_analyzer"`
}

// QAReport computes agreement over the decided QA samples in the
// reviewer's scope.
func (s *Service) QAReport(ctx context.Context, r Reviewer) (QAReport, error) {
	if !reviewRole(r.Role) {
		return QAReport{}, fmt.Errorf("%w: role %s does not review", ErrForbidden, r.Role)
	}
	rows, err := s.st.Pool().Query(ctx, `SELECT codes, findings, automated, decision FROM review_items
		WHERE kind = 'qa' AND state = 'decided' AND ($1 OR tenant_id = $2::uuid)`, r.Platform, tenantOrZero(r.TenantID))
	if err != nil {
		return QAReport{}, fmt.Errorf("review: qa report: %w", err)
	}
	var rep QAReport
	byCode, byAnalyzer := map[string]*Agreement{}, map[string]*Agreement{}
	count := func(m map[string]*Agreement, key string, agreed bool) {
		a := m[key]
		if a == nil {
			a = &Agreement{Key: key}
			m[key] = a
		}
		a.Decided++
		if agreed {
			a.Agreed++
		}
	}
	var codes []string
	var findings []mustertype.Finding
	var automated, decision map[string]string
	if _, err := pgx.ForEachRow(rows, []any{&codes, &findings, &automated, &decision}, func() error {
		agreed := maps.Equal(automated, decision)
		rep.Decided++
		if agreed {
			rep.Agreed++
		}
		for _, c := range codes {
			count(byCode, c, agreed)
		}
		seen := map[string]bool{}
		for _, f := range findings {
			if f.Analyzer != "" && !seen[f.Analyzer] {
				seen[f.Analyzer] = true
				count(byAnalyzer, f.Analyzer, agreed)
			}
		}
		return nil
	}); err != nil {
		return QAReport{}, fmt.Errorf("review: qa report: %w", err)
	}
	rep.Rate = rate(rep.Agreed, rep.Decided)
	flat := func(m map[string]*Agreement) []Agreement {
		out := []Agreement{}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			a := *m[k]
			a.Rate = rate(a.Agreed, a.Decided)
			out = append(out, a)
		}
		return out
	}
	rep.ByCode, rep.ByAnalyzer = flat(byCode), flat(byAnalyzer)
	return rep, nil
}

func rate(a, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(a) / float64(n)
}
