package config

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestReviewSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		env   map[string]string
		lease time.Duration
		qa    float64
		err   string
	}{
		{"defaults", nil, 10 * time.Minute, 0.01, ""},
		{"set", map[string]string{"MUSTER_REVIEW_LEASE": "2m", "MUSTER_REVIEW_QA_RATE": "0.05"}, 2 * time.Minute, 0.05, ""},
		{"QA off", map[string]string{"MUSTER_REVIEW_QA_RATE": "0"}, 10 * time.Minute, 0, ""},
		{"lease too short", map[string]string{"MUSTER_REVIEW_LEASE": "1s"}, 0, 0, "review-lease"},
		{"lease too long", map[string]string{"MUSTER_REVIEW_LEASE": "48h"}, 0, 0, "review-lease"},
		{"rate above 1", map[string]string{"MUSTER_REVIEW_QA_RATE": "1.5"}, 0, 0, "review-qa-rate"},
		{"rate not a number", map[string]string{"MUSTER_REVIEW_QA_RATE": "many"}, 0, 0, "want a number"},
	}
	for _, tt := range tests {
		c, _, err := Parse("run", nil, func(k string) string { return tt.env[k] }, io.Discard)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || c.ReviewLease != tt.lease || c.ReviewQARate != tt.qa {
			t.Errorf("%s: lease %s qa %g err %v", tt.name, c.ReviewLease, c.ReviewQARate, err)
		}
	}
	if got := (Config{}).WithDefaults().ReviewLease; got != DefaultReviewLease {
		t.Fatalf("WithDefaults lease %s", got)
	}
}
