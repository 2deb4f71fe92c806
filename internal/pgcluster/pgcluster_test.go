package pgcluster_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/muster-dev/muster/internal/pgcluster"
)

// TestOrphanedClusterIsAdopted: a cluster left running by a process that
// died (a crash of muster run) is adopted by the next start, which stops
// it when it ends; one whose starter is alive is only used.
func TestOrphanedClusterIsAdopted(t *testing.T) {
	if _, err := pgcluster.FindBinDir(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	parent, err := os.MkdirTemp("/tmp", "pgcluster-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(parent, 0o755)
	t.Cleanup(func() { os.RemoveAll(parent) })
	cfg := pgcluster.Config{Dir: filepath.Join(parent, "pg"), Port: 54329, Fast: true}
	first, err := pgcluster.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Stop(ctx) })
	// Another start while its starter (this process) lives: use, not own.
	shared, err := pgcluster.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := shared.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if !running(t, cfg) {
		t.Fatal("a process that only used the cluster stopped it")
	}
	// The starter dies: its pid is that of a process that has exited.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(first.Dir(), "muster.owner"), []byte(strconv.Itoa(dead.Process.Pid)+"\n"), 0o644)
	adopted, err := pgcluster.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := adopted.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if running(t, cfg) {
		t.Fatal("an orphaned cluster was not adopted: it keeps running after its new user ended")
	}
}

func running(t *testing.T, cfg pgcluster.Config) bool {
	t.Helper()
	bin, _ := pgcluster.FindBinDir()
	cmd := exec.Command(filepath.Join(bin, "pg_ctl"), "-D", cfg.Dir, "status")
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", "-u", "postgres", "--", filepath.Join(bin, "pg_ctl"), "-D", cfg.Dir, "status")
	}
	return cmd.Run() == nil
}

// TestPrivateDirectoryAsRoot: run as root from a private directory, the
// cluster is kept where the postgres user can reach it, and the requested
// directory says where.
func TestPrivateDirectoryAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root runs the server as another user")
	}
	if _, err := pgcluster.FindBinDir(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	private, err := os.MkdirTemp("/tmp", "private-") // mode 0700, like mktemp -d
	if err != nil {
		t.Fatal(err)
	}
	alt, _ := os.MkdirTemp("/tmp", "alt-")
	os.Chmod(alt, 0o755)
	t.Cleanup(func() { os.RemoveAll(private); os.RemoveAll(alt) })
	c, err := pgcluster.Start(ctx, pgcluster.Config{Dir: filepath.Join(private, "pg"), Port: 54330, Fast: true, AltRoot: alt})
	if err != nil {
		t.Fatalf("a private directory as root: %v", err)
	}
	defer c.Stop(ctx)
	if filepath.Dir(c.Dir()) != alt {
		t.Fatalf("cluster in %s, want under %s", c.Dir(), alt)
	}
	if b, err := os.ReadFile(filepath.Join(private, "pg", "CLUSTER-IS-ELSEWHERE")); err != nil || string(b) != c.Dir()+"\n" {
		t.Fatalf("pointer file: %q %v", b, err)
	}
}
