// Command pgtmp starts one throwaway PostgreSQL cluster, runs a command with
// MUSTER_TEST_DATABASE_URL pointing at it, then stops and removes it. make
// test uses it so the whole test run shares one cluster.
//
//	go run ./internal/pgtest/pgtmp -- go test ./...
//	go run ./internal/pgtest/pgtmp -c shared_preload_libraries=pg_stat_statements -- go run ./eval/benchreview -statements
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/muster-dev/muster/internal/pgcluster"
	"github.com/muster-dev/muster/internal/pgtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtmp:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	var settings []string
	for len(args) > 1 && args[0] == "-c" {
		settings, args = append(settings, args[1]), args[2:]
	}
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return 2, errors.New("usage: pgtmp [-c name=value]... -- COMMAND [ARGS...]")
	}
	dir, err := os.MkdirTemp("", "pgtmp-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(dir)
	_ = os.Chmod(dir, 0o755)
	c, err := pgcluster.Start(ctx, pgcluster.Config{Dir: dir + "/pg", Fast: true, MaxConnections: 400, Settings: settings})
	if err != nil {
		return 1, err
	}
	defer c.Stop(context.WithoutCancel(ctx))
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr, cmd.Stdin = stdout, stderr, os.Stdin
	cmd.Env = append(os.Environ(), pgtest.EnvURL+"="+c.ConnString("postgres"))
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), nil
		}
		return 1, err
	}
	return 0, nil
}
