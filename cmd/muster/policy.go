package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/internal/config"
	"github.com/muster-dev/muster/policy"
	"github.com/muster-dev/muster/policy/policyhttp"
	"github.com/muster-dev/muster/queue"
)

const policyUsage = `usage: muster policy VERB [FLAGS]
  show [live|shadow|draft|default|N]   print a policy document
  draft edit FILE                      save FILE as the draft (type-checked) and diff it against live
  validate [FILE]                      type-check FILE (or the stored draft)
  backtest --days N                    evaluate the draft over the last N days of stored analyses
  shadow [--note N] [--off]            evaluate the draft beside live on new designs, enforcing nothing
  publish --note N [--revision R]      publish the draft (legal role)
  rollback --to N --note N             publish version N again (legal role)
  history                              list versions
  diff A B                             rule-level and text diff (live, shadow, draft, default or N)
  redecide --since T                   re-decide designs since T (RFC 3339 or a duration such as 72h)
Every verb accepts --actor NAME and --role ROLE (default: $USER, legal): the CLI
has database credentials, so it is an operator tool; the HTTP API checks roles by key.`

func cmdPolicy(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return errors.New(policyUsage)
	}
	verb := args[0]
	args = args[1:]
	if verb == "draft" {
		if len(args) == 0 || args[0] != "edit" {
			return errors.New("usage: muster policy draft edit FILE")
		}
		verb, args = "draft-edit", args[1:]
	}
	fs := flag.NewFlagSet("policy "+verb, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	actorName := fs.String("actor", e.user(), "who makes the change (audit log)")
	role := fs.String("role", "legal", "role to act with: legal or admin")
	days := fs.Int("days", 30, "backtest window in days")
	note := fs.String("note", "", "change note (required to publish)")
	off := fs.Bool("off", false, "shadow: stop shadowing")
	revision := fs.Int64("revision", 0, "publish: the draft revision you reviewed (0: any)")
	to := fs.Int("to", 0, "rollback: the version to publish again")
	since := fs.String("since", "", "redecide: RFC 3339 time or a duration back from now")
	limit := fs.Int("limit", 50, "history: how many versions")
	if err := fs.Parse(reorder(fs, args)); err != nil {
		return err
	}
	// Settings (database URL…) come from the environment; flags here are the verb's.
	cfg, log, s, err := e.operator(ctx, "policy")
	if err != nil {
		return err
	}
	defer s.Close()
	// The hooked store: a re-decision that puts a market in review opens
	// its review item, and a human decision is never overridden.
	st := policy.NewStore(s.pool, app.NewStore(s.pool, cfg, log), policy.Config{Logger: log})
	if err := st.Bootstrap(ctx); err != nil {
		return err
	}
	a := policy.Actor{Name: "cli:" + *actorName, Role: *role}
	w := e.stdout
	switch verb {
	case "show":
		which := "live"
		if fs.NArg() > 0 {
			which = fs.Arg(0)
		}
		return policy.CmdShow(ctx, st, which, w)
	case "draft-edit":
		if fs.NArg() != 1 {
			return errors.New("usage: muster policy draft edit FILE")
		}
		b, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			return err
		}
		return policy.CmdDraftEdit(ctx, st, a, b, w)
	case "validate":
		var b []byte
		if fs.NArg() > 0 {
			if b, err = os.ReadFile(fs.Arg(0)); err != nil {
				return err
			}
		}
		return policy.CmdValidate(ctx, st, b, w)
	case "backtest":
		return policy.CmdBacktest(ctx, st, a, *days, w)
	case "shadow":
		return policy.CmdShadow(ctx, st, a, *note, *off, w)
	case "publish":
		return policy.CmdPublish(ctx, st, a, *note, *revision, w)
	case "rollback":
		return policy.CmdRollback(ctx, st, a, *to, *note, w)
	case "history":
		return policy.CmdHistory(ctx, st, *limit, w)
	case "diff":
		if fs.NArg() != 2 {
			return errors.New("usage: muster policy diff A B")
		}
		return policy.CmdDiff(ctx, st, fs.Arg(0), fs.Arg(1), w)
	case "redecide":
		t, err := parseSince(*since)
		if err != nil {
			return err
		}
		notify, closeFn := changeNotifier(ctx, cfg, e)
		defer closeFn()
		return policy.CmdRedecide(ctx, st, a, t, notify, w)
	}
	return fmt.Errorf("unknown policy verb %q\n%s", verb, policyUsage)
}

func parseSince(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("--since is required (RFC 3339 time or a duration such as 72h)")
	}
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--since %q: want RFC 3339 or a duration", s)
	}
	return t, nil
}

// changeNotifier publishes verdict.changed events to NATS (MUSTER_NATS_URL,
// or the embedded server of a running `muster run`). Without NATS the
// changes are still recorded in the event log, and a warning says so.
func changeNotifier(ctx context.Context, cfg config.Config, e *env) (func(context.Context, policy.Change) error, func()) {
	nc := e.operatorNATS(cfg, "tenants will not be notified of changed verdicts")
	if nc == nil {
		return nil, func() {}
	}
	q, err := queue.Setup(ctx, nc, queue.Config{Replicas: cfg.NATSReplicas})
	if err != nil {
		nc.Close()
		fmt.Fprintf(e.stderr, "warning: %v: tenants will not be notified\n", err)
		return nil, func() {}
	}
	return policyhttp.NotifyChange(q), func() { _ = nc.Drain() }
}
