package policy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// The Cmd* functions implement the `muster policy` verbs. Each writes
// human-readable output to w; the HTTP API can call the Store methods they
// wrap and return JSON instead.

// CmdShow prints the document of a version ("live", "shadow", "draft" or a
// number; "" means live) as canonical JSON, preceded by a header line.
func CmdShow(ctx context.Context, st *Store, which string, w io.Writer) error {
	content, label, err := Resolve(ctx, st, which)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "# %s\n", label); err != nil {
		return err
	}
	_, err = w.Write(content)
	return err
}

// Resolve returns the content of "live", "shadow", "draft", "default" or a
// version number, with a label.
func Resolve(ctx context.Context, st *Store, which string) ([]byte, string, error) {
	switch which {
	case "", "live", "shadow":
		s, err := st.State(ctx)
		if err != nil {
			return nil, "", err
		}
		p := s.Live
		if which == "shadow" {
			p = s.Shadow
		}
		if p == nil {
			return nil, "", fmt.Errorf("policy: no %s version: %w", strings.TrimPrefix(which+" ", " "), ErrNotFound)
		}
		v, err := st.Version(ctx, *p)
		if err != nil {
			return nil, "", err
		}
		return v.Content, fmt.Sprintf("%s (%s, %s by %s: %s)", v.Name(), orLive(which), v.CreatedAt.UTC().Format(time.RFC3339), v.Author, v.Note), nil
	case "draft":
		d, err := st.Draft(ctx)
		if err != nil {
			return nil, "", err
		}
		return d.Content, fmt.Sprintf("draft revision %d (based on %s, saved by %s)", d.Revision, fmtPtr(d.BaseVersion), d.UpdatedBy), nil
	case "default":
		doc, err := DefaultDocument()
		if err != nil {
			return nil, "", err
		}
		c, err := doc.Canonical()
		return c, "default pack", err
	}
	n, err := strconv.Atoi(strings.TrimPrefix(which, VersionName(0)[:len("policy/")]))
	if err != nil {
		return nil, "", fmt.Errorf("policy: %q: want live, shadow, draft, default or a version number", which)
	}
	v, err := st.Version(ctx, n)
	if err != nil {
		return nil, "", err
	}
	return v.Content, fmt.Sprintf("%s (%s by %s: %s)", v.Name(), v.CreatedAt.UTC().Format(time.RFC3339), v.Author, v.Note), nil
}

func orLive(s string) string {
	if s == "" {
		return "live"
	}
	return s
}

// CmdDraftEdit validates content and saves it as the draft, then prints the
// rule-level diff against the live version. Compile errors are printed one
// per line and returned.
func CmdDraftEdit(ctx context.Context, st *Store, a Actor, content []byte, w io.Writer) error {
	d, err := st.SaveDraft(ctx, a, content)
	if err != nil {
		printErrors(w, err)
		return err
	}
	fmt.Fprintf(w, "draft saved: revision %d, based on version %s\n", d.Revision, fmtPtr(d.BaseVersion))
	return cmdDiffContents(ctx, st, "live", "draft", w, false)
}

// CmdValidate type-checks content (or, if nil, the stored draft) and prints
// "ok" with the rule count or every error with its position.
func CmdValidate(ctx context.Context, st *Store, content []byte, w io.Writer) error {
	if content == nil {
		d, err := st.Draft(ctx)
		if err != nil {
			return err
		}
		content = d.Content
	}
	doc, err := Validate(content, st.cfg)
	if err != nil {
		printErrors(w, err)
		return err
	}
	_, err = fmt.Fprintf(w, "ok: %d rules, %d params\n", len(doc.Rules), len(doc.Params))
	return err
}

func printErrors(w io.Writer, err error) {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			fmt.Fprintln(w, "error:", e)
		}
		return
	}
	fmt.Fprintln(w, "error:", err)
}

// CmdBacktest starts a backtest of the draft over the last days days, runs
// it in this process while printing progress, and prints the result.
func CmdBacktest(ctx context.Context, st *Store, a Actor, days int, w io.Writer) error {
	id, err := st.StartBacktest(ctx, a, days)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "backtest %d started over the last %d days\n", id, days)
	done := make(chan error, 1)
	go func() { done <- st.RunBacktest(ctx, id) }()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				return err
			}
			b, err := st.Backtest(ctx, id)
			if err != nil {
				return err
			}
			return WriteBacktest(w, b)
		case <-tick.C:
			if b, err := st.Backtest(ctx, id); err == nil {
				fmt.Fprintf(w, "progress: %d/%d designs\n", b.Done, b.Total)
			}
		}
	}
}

// WriteBacktest renders a backtest's status and result as text.
func WriteBacktest(w io.Writer, b Backtest) error {
	fmt.Fprintf(w, "backtest %d: %s, %d/%d designs\n", b.ID, b.Status, b.Done, b.Total)
	if b.Error != "" {
		fmt.Fprintln(w, "error:", b.Error)
	}
	r := b.Result
	if r == nil {
		return nil
	}
	fmt.Fprintf(w, "draft vs %s: %d designs, %d change (%.0f designs/s)\n", r.Live, r.Designs, r.Changed, r.DesignsPerSecond)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "MARKET\tLIVE a/r/b\tDRAFT a/r/b\tCHANGES\tSAMPLE")
	for _, m := range sortedKeys(r.Markets) {
		mc := r.Markets[m]
		var ch, sample []string
		for _, k := range sortedKeys(mc.Changes) {
			ch = append(ch, fmt.Sprintf("%s %d", k, mc.Changes[k]))
			sample = append(sample, mc.Samples[k]...)
		}
		if len(sample) > 3 {
			sample = sample[:3]
		}
		fmt.Fprintf(tw, "%s\t%d/%d/%d\t%d/%d/%d\t%s\t%s\n", m, mc.Live[Allow], mc.Live[Review], mc.Live[Block],
			mc.Draft[Allow], mc.Draft[Review], mc.Draft[Block], strings.Join(ch, ", "), strings.Join(sample, " "))
	}
	return tw.Flush()
}

// CmdShadow snapshots the draft as a shadow version (off: clear the shadow).
func CmdShadow(ctx context.Context, st *Store, a Actor, note string, off bool, w io.Writer) error {
	if off {
		if err := st.ClearShadow(ctx, a); err != nil {
			return err
		}
		_, err := fmt.Fprintln(w, "shadow cleared")
		return err
	}
	v, err := st.SetShadow(ctx, a, note)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "shadow is %s (evaluated beside live, not enforced)\n", v.Name())
	return err
}

// CmdPublish publishes the draft (legal role only) with a change note.
func CmdPublish(ctx context.Context, st *Store, a Actor, note string, draftRevision int64, w io.Writer) error {
	v, err := st.Publish(ctx, a, PublishRequest{Note: note, DraftRevision: draftRevision})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "published %s by %s: %s\n", v.Name(), v.Author, v.Note)
	return err
}

// CmdRollback publishes the content of an older version as a new version.
func CmdRollback(ctx context.Context, st *Store, a Actor, to int, note string, w io.Writer) error {
	v, err := st.Rollback(ctx, a, to, 0, note)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "rolled back: %s has the content of %s\n", v.Name(), VersionName(to))
	return err
}

// CmdHistory lists versions, newest first, marking live and shadow.
func CmdHistory(ctx context.Context, st *Store, limit int, w io.Writer) error {
	s, err := st.State(ctx)
	if err != nil {
		return err
	}
	vs, err := st.History(ctx, limit)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tPOINTER\tCREATED\tAS\tAUTHOR\tNOTE")
	for _, v := range vs {
		var ptrs []string
		if s.Live != nil && *s.Live == v.Version {
			ptrs = append(ptrs, "live")
		}
		if s.Shadow != nil && *s.Shadow == v.Version {
			ptrs = append(ptrs, "shadow")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s (%s)\t%s\n", v.Version, strings.Join(ptrs, ","), v.CreatedAt.UTC().Format(time.RFC3339), v.CreatedAs, v.Author, v.AuthorRole, v.Note)
	}
	return tw.Flush()
}

// CmdDiff prints the rule-level summary and the text diff between a and b
// (each live, shadow, draft, default or a version number).
func CmdDiff(ctx context.Context, st *Store, a, b string, w io.Writer) error {
	return cmdDiffContents(ctx, st, a, b, w, true)
}

func cmdDiffContents(ctx context.Context, st *Store, a, b string, w io.Writer, text bool) error {
	ca, la, err := Resolve(ctx, st, a)
	if err != nil {
		return err
	}
	cb, lb, err := Resolve(ctx, st, b)
	if err != nil {
		return err
	}
	da, err := ParseDocument(ca)
	if err != nil {
		return fmt.Errorf("%s: %w", la, err)
	}
	db, err := ParseDocument(cb)
	if err != nil {
		return fmt.Errorf("%s: %w", lb, err)
	}
	d, err := Diff(da, db, orLive(a), b)
	if err != nil {
		return err
	}
	if err := d.WriteSummary(w); err != nil {
		return err
	}
	if text && d.Text != "" {
		_, err = io.WriteString(w, "\n"+d.Text)
	}
	return err
}

// CmdRedecide re-decides stored designs created since under the live
// version, prints a summary and the changed designs, and calls notify for
// each changed design (hook webhooks there).
func CmdRedecide(ctx context.Context, st *Store, a Actor, since time.Time, notify func(context.Context, Change) error, w io.Writer) error {
	rep, err := st.Redecide(ctx, a, since, notify)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "re-decided under %s: %d designs read, %d verdicts written, %d changed, tenants: %s\n",
		rep.Version, rep.Designs, rep.Rewritten, len(rep.Changed), strings.Join(rep.Tenants, ","))
	for _, c := range rep.Changed {
		fmt.Fprintf(w, "%s\t%s\t%s→%s\t%s\n", c.DesignID, c.TenantID, c.Before, c.After, strings.Join(c.Markets, ","))
	}
	return nil
}
