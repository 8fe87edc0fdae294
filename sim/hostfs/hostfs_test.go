package hostfs_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/sim/hostfs"
	"github.com/csmsim/csmsim/sim/memfs"
)

// hostPath is name's host path, if fsys keeps its files on the host.
func hostPath(fsys afero.Fs, name string) (string, bool) {
	p, ok := fsys.(hostfs.Pather)
	if !ok {
		return "", false
	}
	h, err := p.HostPath(name)
	return h, err == nil
}

func TestHostPaths(t *testing.T) {
	root := t.TempDir()
	fs := hostfs.New(root)
	if err := afero.WriteFile(fs, "/a/b.txt", []byte("x"), 0o644); err == nil {
		t.Fatal("a file in a directory that does not exist was written")
	}
	if err := fs.MkdirAll("/a", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := afero.WriteFile(fs, "/a/b.txt", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, ok := hostPath(fs, "/a/b.txt")
	if want := filepath.Join(root, "a", "b.txt"); !ok || p != want {
		t.Fatalf("Path = %q, %v; want %q", p, ok, want)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "x" {
		t.Fatalf("the host file holds %q, %v", b, err)
	}

	sub := hostfs.Sub(fs, "/a")
	if p, ok := hostPath(sub, "b.txt"); !ok || p != filepath.Join(root, "a", "b.txt") {
		t.Fatalf("a host directory's Sub is one too: Path = %q, %v", p, ok)
	}
	if _, ok := hostPath(sub, "../../etc/passwd"); ok {
		t.Fatal("a name outside the root has a host path")
	}

	osSub := hostfs.Sub(afero.NewOsFs(), root)
	if p, ok := hostPath(osSub, "a/b.txt"); !ok || p != filepath.Join(root, "a", "b.txt") {
		t.Fatalf("the OS file system's Sub is a host directory: Path = %q, %v", p, ok)
	}

	mem := memfs.New(memfs.Options{})
	if err := mem.MkdirAll("/a", 0o755); err != nil {
		t.Fatal(err)
	}
	if _, ok := hostPath(hostfs.Sub(mem, "/a"), "b.txt"); ok {
		t.Fatal("a memory file system has host paths")
	}
}
