package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/bank/match"
	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/store"
)

const bankUsage = `usage: muster bank VERB [FLAGS]
  list                                      banks with kind, version, threshold and entry count
  seed                                      create the default banks that are missing (symbols, simple-icons)
  import simple-icons [--jurisdictions US,EU] [--classes 25,21,16]
                                            (re)build the trademark bank from @iconify-json/simple-icons
  import-csv BANK FILE                      bulk metadata: id,label,owner,jurisdictions,classes,famous,word_marks,source,notes (lists ";"-separated)
  create NAME --kind trademark|symbol|custom [--threshold T] [--description D]
  add BANK IMAGE --id ID --label L [--owner O] [--jurisdictions US;EU] [--classes 25;21] [--famous] [--word-marks A;B]
  disable BANK ID [--until RFC3339] [--note N]   enable BANK ID   delete BANK ID
  allow BANK ID --tenant T --evidence E [--expires RFC3339]    disallow BANK ID --tenant T
  threshold BANK T                          the bank's match threshold (0..1]
  audit BANK                                every change, with version, actor and time
Changes are versioned and audited, and announced on NATS (MUSTER_NATS_URL or a
running muster run) so workers apply them within seconds.`

func cmdBank(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return errors.New(bankUsage)
	}
	verb, args := args[0], args[1:]
	fs := flag.NewFlagSet("bank "+verb, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	actor := fs.String("actor", e.user(), "who makes the change (audit trail)")
	kind := fs.String("kind", "", "bank kind")
	threshold := fs.Float64("threshold", match.DefaultThreshold, "match threshold")
	description := fs.String("description", "", "bank description")
	id := fs.String("id", "", "entry id")
	label := fs.String("label", "", "entry label")
	owner := fs.String("owner", "", "mark owner")
	jurisdictions := fs.String("jurisdictions", "", "ISO codes, EU or WIPO:<codes>, separated by ; or ,")
	classes := fs.String("classes", "", "Nice classes, separated by ; or ,")
	famous := fs.Bool("famous", false, "a famous mark (blocks across classes)")
	wordMarks := fs.String("word-marks", "", "word marks, separated by ;")
	until := fs.String("until", "", "disable until (RFC 3339)")
	note := fs.String("note", "", "note")
	tenant := fs.String("tenant", "", "tenant id or name")
	evidence := fs.String("evidence", "", "licence or ownership evidence")
	expires := fs.String("expires", "", "allowance expiry (RFC 3339)")
	if err := fs.Parse(reorder(fs, args)); err != nil {
		return err
	}
	cfg, _, s, err := e.operator(ctx, "bank")
	if err != nil {
		return err
	}
	defer s.Close()
	nc := e.operatorNATS(cfg, "running workers pick this change up at their next catch-up (within 30 s) instead of at once")
	if nc != nil {
		defer nc.Close()
	}
	var ann bank.Announcer
	if nc != nil {
		ann = bank.NATSAnnouncer{Conn: nc}
	}
	st := bank.NewStore(s.pool, ann)
	who := "cli:" + *actor
	report := func(c bank.Change, err error) error {
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "bank %s is at version %d (%d entries changed)\n", c.Bank, c.Version, len(c.EntryIDs))
		return nil
	}
	arg := func(i int) string { return fs.Arg(i) }
	need := func(n int, usage string) error {
		if fs.NArg() != n {
			return errors.New("usage: muster bank " + usage)
		}
		return nil
	}
	switch verb {
	case "list":
		banks, err := st.Banks(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "BANK\tKIND\tVERSION\tTHRESHOLD\tUPDATED\tDESCRIPTION")
		for _, b := range banks {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%s\t%s\n", b.Name, b.Kind, b.Version, b.Threshold, b.UpdatedAt.Format("2006-01-02 15:04"), b.Description)
		}
		return tw.Flush()
	case "seed":
		return app.SeedBanks(ctx, cfg, s.pool, nc, e.stderr)
	case "import":
		if err := need(1, "import simple-icons"); err != nil {
			return err
		}
		if arg(0) != "simple-icons" {
			return fmt.Errorf("unknown import source %q (simple-icons)", arg(0))
		}
		opts := bank.ImportOptions{CacheDir: cfg.CacheDir, Actor: who, Jurisdictions: splitList(*jurisdictions)}
		if opts.Classes, err = parseClasses(*classes); err != nil {
			return err
		}
		return report(bank.ImportSimpleIcons(ctx, st, opts, e.stderr))
	case "import-csv":
		if err := need(2, "import-csv BANK FILE"); err != nil {
			return err
		}
		f, err := os.Open(arg(1))
		if err != nil {
			return err
		}
		defer f.Close()
		return report(bank.ImportCSV(ctx, st, arg(0), f, who))
	case "create":
		if err := need(1, "create NAME --kind K"); err != nil {
			return err
		}
		b, err := st.CreateBank(ctx, bank.Bank{Name: arg(0), Kind: *kind, Threshold: *threshold, Description: *description}, who)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "bank %s (%s) created\n", b.Name, b.Kind)
		return nil
	case "add":
		if err := need(2, "add BANK IMAGE --id ID --label L"); err != nil {
			return err
		}
		data, err := os.ReadFile(arg(1))
		if err != nil {
			return err
		}
		cls, err := parseClasses(*classes)
		if err != nil {
			return err
		}
		entry := bank.Entry{ID: *id, Label: *label, Owner: *owner, Jurisdictions: splitList(*jurisdictions), Classes: cls,
			Famous: *famous, WordMarks: splitList(*wordMarks), Source: "muster bank add " + arg(1), Notes: *note}
		return report(bank.AddImage(ctx, st, arg(0), bank.AddRequest{Entry: entry, Image: data}, match.Config{}, who))
	case "disable":
		if err := need(2, "disable BANK ID [--until T] [--note N]"); err != nil {
			return err
		}
		var t *time.Time
		if *until != "" {
			u, err := time.Parse(time.RFC3339, *until)
			if err != nil {
				return fmt.Errorf("--until: %w", err)
			}
			t = &u
		}
		return report(st.DisableEntry(ctx, arg(0), arg(1), t, *note, who))
	case "enable":
		if err := need(2, "enable BANK ID"); err != nil {
			return err
		}
		return report(st.EnableEntry(ctx, arg(0), arg(1), who))
	case "delete":
		if err := need(2, "delete BANK ID"); err != nil {
			return err
		}
		return report(st.DeleteEntry(ctx, arg(0), arg(1), who))
	case "allow", "disallow":
		if err := need(2, verb+" BANK ID --tenant T"); err != nil {
			return err
		}
		if *tenant == "" {
			return errors.New("--tenant is required")
		}
		t, err := store.New(s.pool).Tenant(ctx, *tenant)
		if err != nil {
			return err
		}
		if verb == "disallow" {
			return report(st.Disallow(ctx, arg(0), arg(1), t.ID, who))
		}
		a := bank.Allow{Bank: arg(0), EntryID: arg(1), TenantID: t.ID, Evidence: *evidence}
		if *expires != "" {
			x, err := time.Parse(time.RFC3339, *expires)
			if err != nil {
				return fmt.Errorf("--expires: %w", err)
			}
			a.ExpiresAt = &x
		}
		return report(st.Allow(ctx, a, who))
	case "threshold":
		if err := need(2, "threshold BANK T"); err != nil {
			return err
		}
		v, err := strconv.ParseFloat(arg(1), 64)
		if err != nil {
			return fmt.Errorf("threshold %q: %w", arg(1), err)
		}
		return report(st.SetThreshold(ctx, arg(0), v, who))
	case "audit":
		if err := need(1, "audit BANK"); err != nil {
			return err
		}
		recs, err := st.Audit(ctx, arg(0), 0)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(e.stdout)
		for _, r := range recs {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown bank verb %q\n%s", verb, bankUsage)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseClasses(s string) ([]int, error) {
	var out []int
	for _, p := range splitList(s) {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("Nice class %q: want a number 1..45", p)
		}
		out = append(out, n)
	}
	return out, nil
}
