package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/muster-dev/muster/accounts"
)

func TestUserCommands(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	if _, _, err := b.run("tenant", "create", "plat", "--platform"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.run("tenant", "create", "acme"); err != nil {
		t.Fatal(err)
	}
	// A generated password is printed once, on stdout alone.
	out, errOut, err := b.run("user", "create", "--email", "Rita@Example.com", "--role", "reviewer")
	if err != nil {
		t.Fatal(err)
	}
	generated := strings.TrimSpace(out)
	if len(generated) != 20 || strings.Contains(errOut, generated) || !strings.Contains(errOut, "platform (every tenant)") {
		t.Fatalf("stdout %q stderr %q", out, errOut)
	}
	// From standard input, for another tenant.
	var so, se bytes.Buffer
	err = runIO(ctx, []string{"user", "create", "--email", "lena@example.com", "--role", "legal", "--tenant", "acme", "--password-stdin"},
		func(k string) string { return b.env[k] }, strings.NewReader("a password from stdin\n"), &so, &se)
	if err != nil || so.Len() != 0 {
		t.Fatalf("stdin: %v %q", err, so.String())
	}
	pool, err := pgxpool.New(ctx, b.env["MUSTER_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	acc := accounts.New(pool, accounts.Config{})
	for email, pw := range map[string]string{"rita@example.com": generated, "lena@example.com": "a password from stdin"} {
		if _, _, err := acc.Login(ctx, email, pw, accounts.Meta{RemoteAddr: "192.0.2.1"}); err != nil {
			t.Fatalf("%s signs in: %v", email, err)
		}
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"duplicate", []string{"user", "create", "--email", "rita@example.com", "--role", "admin"}, "exists"},
		{"merchant is no console role", []string{"user", "create", "--email", "m@example.com", "--role", "merchant"}, "console role"},
		{"no email", []string{"user", "create", "--role", "admin"}, "usage"},
		{"unknown tenant", []string{"user", "create", "--email", "x@example.com", "--role", "admin", "--tenant", "nope"}, "not found"},
	}
	for _, tt := range tests {
		if _, _, err := b.run(tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	out, _, err = b.run("user", "list")
	if err != nil || !strings.Contains(out, "rita@example.com") || !strings.Contains(out, "lena@example.com") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if _, _, err := b.run("user", "disable", "rita@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := acc.Login(ctx, "rita@example.com", generated, accounts.Meta{RemoteAddr: "192.0.2.1"}); err == nil {
		t.Fatal("a disabled user signs in")
	}
	if _, _, err := b.run("user", "enable", "rita@example.com"); err != nil {
		t.Fatal(err)
	}
	out, _, err = b.run("user", "password", "rita@example.com")
	if err != nil || len(strings.TrimSpace(out)) != 20 {
		t.Fatalf("reset: %v %q", err, out)
	}
	if _, _, err := acc.Login(ctx, "rita@example.com", strings.TrimSpace(out), accounts.Meta{RemoteAddr: "192.0.2.1"}); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if _, _, err := b.run("user", "unlock", "rita@example.com"); err != nil {
		t.Fatal(err)
	}
}
