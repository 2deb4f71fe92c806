package main

import "testing"

// The banner's URL names the host the API listens on (before: ":8080"
// printed fine but "127.0.0.1:8080" became http://localhost127.0.0.1:8080).
func TestBaseURL(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		":8080":          "http://localhost:8080",
		"127.0.0.1:8080": "http://127.0.0.1:8080",
		"0.0.0.0:9000":   "http://localhost:9000",
		"[::1]:8080":     "http://[::1]:8080",
	} {
		if got := baseURL(addr); got != want {
			t.Errorf("baseURL(%q) = %q, want %q", addr, got, want)
		}
	}
}
