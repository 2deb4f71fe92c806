// Package archtest keeps the module's dependency rules: it walks
// `go list -deps` for every package and fails when an import points the
// wrong way.
package archtest

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/muster-dev/muster"

type pkg struct {
	ImportPath string
	Deps       []string
}

// listPackages returns every package of the module with its transitive
// dependencies (tests excluded: a test may import anything).
func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-json=ImportPath,Deps", module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []pkg
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

// rel strips the module path ("" for a package outside the module).
func rel(path string) (string, bool) {
	if path == module {
		return ".", true
	}
	r, ok := strings.CutPrefix(path, module+"/")
	return r, ok
}

func under(p, prefix string) bool { return p == prefix || strings.HasPrefix(p, prefix+"/") }

// rule forbids packages matching from to depend (transitively) on
// packages matching to.
type rule struct {
	why  string
	from func(p string) bool
	to   func(dep string) bool
}

func prefixes(ps ...string) func(string) bool {
	return func(p string) bool {
		return slices.ContainsFunc(ps, func(pre string) bool { return under(p, pre) })
	}
}

func TestImportRules(t *testing.T) {
	t.Parallel()
	inModule := func(dep string) bool { _, ok := rel(dep); return ok }
	cel := func(dep string) bool { return strings.HasPrefix(dep, "cel.dev/") }
	rules := []rule{
		{"the leaf package of shared types imports nothing from the module", prefixes("mustertype"), inModule},
		{"the store does not import policy (nor CEL)", prefixes("store"), func(d string) bool { r, _ := rel(d); return under(r, "policy") || cel(d) }},
		{"the API and webhooks do not compile against the rule engine", prefixes("api", "webhook", "queue", "outbox"), func(d string) bool { r, _ := rel(d); return under(r, "policy") || cel(d) }},
		{"analyzers, models and banks do not import the store, the API, workers, webhooks or the queue (the banks' HTTP adapter bank/bankhttp may use the API)",
			func(p string) bool {
				return (under(p, "analyzers") || under(p, "models") || under(p, "bank")) && !under(p, "bank/bankhttp")
			},
			prefixes(module+"/store", module+"/api", module+"/workers", module+"/webhook", module+"/queue", module+"/outbox", module+"/review", module+"/console")},
		{"the policy engine does not import the store, the API or workers (its HTTP adapter policy/policyhttp may)", func(p string) bool { return p == "policy" || under(p, "policy/signals") },
			prefixes(module+"/store", module+"/api", module+"/workers", module+"/webhook", module+"/queue", module+"/outbox")},
		{"the store does not import the review package (it calls it back through store.VerdictHook)", prefixes("store"), prefixes(module + "/review")},
		{"the review domain does not import the API, workers, webhooks or the rule engine (its HTTP adapter review/reviewhttp may import the API)", func(p string) bool { return p == "review" },
			func(d string) bool {
				r, _ := rel(d)
				return under(r, "api") || under(r, "workers") || under(r, "webhook") || under(r, "policy") || cel(d)
			}},
		{"the review HTTP adapter does not compile against the rule engine", prefixes("review"), func(d string) bool { r, _ := rel(d); return under(r, "policy") || cel(d) }},
		{"console accounts stand alone: they import nothing from the module", prefixes("accounts"), inModule},
		{"the console does not compile against the API, workers, webhooks or the HTTP adapters (it acts through accounts, the store, review, and for legal's workspace the policy engine and the banks: type-checking, previews, the market matrix)", prefixes("console"),
			func(d string) bool {
				r, _ := rel(d)
				return under(r, "api") || under(r, "workers") || under(r, "webhook") || under(r, "policy/policyhttp") || under(r, "bank/bankhttp") || under(r, "review/reviewhttp")
			}},
		{"production packages do not import evaluation programs or the binary", func(p string) bool { return !under(p, "eval") && !under(p, "cmd") },
			prefixes(module+"/eval", module+"/cmd")},
		{"only the composition root, the binary and evaluations import the workers and the API together", func(p string) bool {
			return !under(p, "cmd") && !under(p, "eval")
		}, nil},
	}
	pkgs := listPackages(t)
	for _, r := range rules {
		for _, p := range pkgs {
			rp, ok := rel(p.ImportPath)
			if !ok || !r.from(rp) {
				continue
			}
			if r.to == nil {
				// The composition-root rule: nothing outside cmd/ and eval/
				// depends on both the API and the workers.
				if slices.Contains(p.Deps, module+"/api") && slices.Contains(p.Deps, module+"/workers") {
					t.Errorf("%s: %s depends on both api and workers", r.why, rp)
				}
				continue
			}
			for _, d := range p.Deps {
				if r.to(d) {
					t.Errorf("%s: %s depends on %s", r.why, rp, d)
				}
			}
		}
	}
}

// TestRulesCatchViolations makes sure the walk sees real dependencies: the
// composition root does depend on everything the rules keep apart.
func TestRulesCatchViolations(t *testing.T) {
	t.Parallel()
	for _, p := range listPackages(t) {
		if p.ImportPath != module+"/cmd/muster/app" {
			continue
		}
		for _, want := range []string{"store", "policy", "api", "workers", "analyzers/nsfw", "analyzers/banks", "cel.dev/cel-go/cel"} {
			if !slices.Contains(p.Deps, module+"/"+want) && !slices.Contains(p.Deps, want) {
				t.Errorf("cmd/muster/app does not depend on %s: the dependency walk is broken", want)
			}
		}
		return
	}
	t.Fatal("cmd/muster/app not listed")
}
