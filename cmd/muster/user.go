package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/muster-dev/muster/accounts"
	"github.com/muster-dev/muster/store"
)

const userUsage = "usage: muster user create --email E --role reviewer|legal|admin [--tenant T] [--name N] [--password-stdin] | list [--tenant T] | password EMAIL [--password-stdin] | unlock EMAIL | disable EMAIL | enable EMAIL"

// cmdUser manages console users. A new password is read from standard
// input with --password-stdin, or generated and printed once.
func cmdUser(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return errors.New(userUsage)
	}
	_, _, s, err := e.operator(ctx, "user")
	if err != nil {
		return err
	}
	defer s.Close()
	st := store.New(s.pool)
	acc := accounts.New(s.pool, accounts.Config{})
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	tenant := fs.String("tenant", "", "tenant id or name (default: the platform operator's tenant, when there is exactly one)")
	email := fs.String("email", "", "the user's email, their sign-in name")
	role := fs.String("role", "", "reviewer, legal or admin")
	name := fs.String("name", "", "display name")
	stdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of generating one")
	if err := fs.Parse(reorder(fs, args[1:])); err != nil {
		return err
	}
	password := func() (string, bool, error) {
		if !*stdin {
			return accounts.GeneratePassword(), true, nil
		}
		line, err := bufio.NewReader(e.stdin()).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", false, err
		}
		return strings.TrimRight(line, "\r\n"), false, nil
	}
	switch args[0] {
	case "create":
		if *email == "" || *role == "" {
			return errors.New(userUsage)
		}
		t, err := userTenant(ctx, st, *tenant)
		if err != nil {
			return err
		}
		pw, generated, err := password()
		if err != nil {
			return err
		}
		u, err := acc.CreateUser(ctx, accounts.NewUser{TenantID: t.ID, Email: *email, Name: *name, Role: *role, Password: pw})
		if err != nil {
			return err
		}
		scope := "tenant " + t.Name
		if t.Platform {
			scope = "platform (every tenant)"
		}
		fmt.Fprintf(e.stderr, "user %s (%s, %s) created\n", u.Email, u.Role, scope)
		if generated {
			fmt.Fprintf(e.stderr, "password (shown once; change it in the console under your account):\n")
			fmt.Fprintln(e.stdout, pw)
		}
		return nil
	case "list":
		tid := ""
		if *tenant != "" {
			t, err := st.Tenant(ctx, *tenant)
			if err != nil {
				return err
			}
			tid = t.ID
		}
		us, err := acc.Users(ctx, tid)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tROLE\tTENANT\tLAST SIGN-IN\tSTATE")
		for _, u := range us {
			last, state := "never", "active"
			if u.LastLoginAt != nil {
				last = u.LastLoginAt.Format("2006-01-02 15:04")
			}
			if u.DisabledAt != nil {
				state = "disabled"
			} else if u.LockedUntil != nil {
				state = "locked until " + u.LockedUntil.Format("15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Email, u.Role, u.TenantName, last, state)
		}
		return tw.Flush()
	case "password", "unlock", "disable", "enable":
		if fs.NArg() != 1 {
			return errors.New(userUsage)
		}
		u, err := acc.User(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		switch args[0] {
		case "password":
			pw, generated, err := password()
			if err != nil {
				return err
			}
			if err := acc.SetPassword(ctx, u.ID, pw); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "password of %s changed; their sessions were ended\n", u.Email)
			if generated {
				fmt.Fprintln(e.stdout, pw)
			}
		case "unlock":
			if err := acc.Unlock(ctx, u.Email); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "%s unlocked\n", u.Email)
		case "disable", "enable":
			if err := acc.SetDisabled(ctx, u.ID, args[0] == "disable"); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "%s %sd\n", u.Email, args[0])
		}
		return nil
	}
	return fmt.Errorf("unknown user command %q", args[0])
}

// userTenant is the named tenant or, when none is named, the only platform
// tenant.
func userTenant(ctx context.Context, st *store.Store, name string) (store.Tenant, error) {
	if name != "" {
		return st.Tenant(ctx, name)
	}
	ts, err := st.Tenants(ctx)
	if err != nil {
		return store.Tenant{}, err
	}
	var plat []store.Tenant
	for _, t := range ts {
		if t.Platform {
			plat = append(plat, t)
		}
	}
	if len(plat) != 1 {
		return store.Tenant{}, fmt.Errorf("--tenant is required (%d platform tenants exist)", len(plat))
	}
	return plat[0], nil
}

// devLogins returns the development console logins kept in the data
// directory, creating an admin and a reviewer in the dev tenant on first
// use (created is true then: the only time run prints the passwords).
// Their generated passwords are written (0600) next to the development
// API key.
func devLogins(ctx context.Context, acc *accounts.Service, st *store.Store, dataDir string) (logins [][2]string, created bool, err error) {
	path := filepath.Join(dataDir, "dev-console-logins")
	var out [][2]string
	if b, err := os.ReadFile(path); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if email, pw, ok := strings.Cut(line, " "); ok {
				if _, err := acc.User(ctx, email); err == nil {
					out = append(out, [2]string{email, pw})
				}
			}
		}
		if len(out) > 0 {
			return out, false, nil
		}
	}
	t, err := st.Tenant(ctx, "dev")
	if err != nil {
		return nil, false, err
	}
	var lines []string
	for _, role := range []string{accounts.RoleAdmin, accounts.RoleReviewer} {
		email := role + "@muster.local"
		pw := accounts.GeneratePassword()
		if _, err := acc.User(ctx, email); err == nil {
			if err := acc.SetPassword(ctx, mustUserID(ctx, acc, email), pw); err != nil {
				return nil, false, err
			}
		} else if _, err := acc.CreateUser(ctx, accounts.NewUser{TenantID: t.ID, Email: email, Name: "Development " + role, Role: role, Password: pw}); err != nil {
			return nil, false, err
		}
		out = append(out, [2]string{email, pw})
		lines = append(lines, email+" "+pw)
	}
	return out, true, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
}

func mustUserID(ctx context.Context, acc *accounts.Service, email string) string {
	u, _ := acc.User(ctx, email)
	return u.ID
}
