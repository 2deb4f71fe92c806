package models

import "testing"

// TestSplit: a batch is spread over the sessions in order, in parts that
// differ by at most one input, never empty.
func TestSplit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ n, sessions, parts int }{
		{1, 2, 1}, {2, 2, 2}, {15, 2, 2}, {16, 4, 4}, {3, 8, 3}, {5, 1, 1}, {5, 0, 1},
	} {
		batch := make([]*request, tc.n)
		for i := range batch {
			batch[i] = &request{}
		}
		parts := split(batch, tc.sessions)
		if len(parts) != tc.parts {
			t.Fatalf("%d inputs on %d sessions: %d parts, want %d", tc.n, tc.sessions, len(parts), tc.parts)
		}
		i := 0
		for _, p := range parts {
			if len(p) == 0 || len(p) < tc.n/tc.parts || len(p) > tc.n/tc.parts+1 {
				t.Fatalf("%d inputs on %d sessions: part of %d", tc.n, tc.sessions, len(p))
			}
			for _, r := range p {
				if r != batch[i] {
					t.Fatalf("%d inputs on %d sessions: out of order at %d", tc.n, tc.sessions, i)
				}
				i++
			}
		}
		if i != tc.n {
			t.Fatalf("%d inputs on %d sessions: %d in parts", tc.n, tc.sessions, i)
		}
	}
}
