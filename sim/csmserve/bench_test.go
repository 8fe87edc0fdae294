package csmserve_test

import (
	"context"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/transport"
	"github.com/csmsim/csmsim/sim/csmserve"
)

// BenchmarkPut64MiB uploads one 64 MiB file to a disk-backed CSMSERVE on
// loopback: with the engine's transport (SHA-256 verified, and size only),
// and with curl as the peer, in the same run.
func BenchmarkPut64MiB(b *testing.B) {
	const size = 64 << 20
	dir := b.TempDir()
	src := filepath.Join(dir, "src.bin")
	f, err := os.Create(src)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(f, mrand.NewChaCha8([32]byte{42}), size); err != nil {
		b.Fatal(err)
	}
	f.Close()
	staging := filepath.Join(dir, "staging")
	if err := os.Mkdir(staging, 0o755); err != nil {
		b.Fatal(err)
	}
	srv, err := csmserve.New(csmserve.Config{
		Fs: afero.NewBasePathFs(afero.NewOsFs(), staging), Password: password,
		Agent: &fakeAgent{}, ListenAddr: "127.0.0.1:0", System: "VM01",
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer srv.Stop(context.Background())
	host, p, _ := net.SplitHostPort(srv.Addr())
	port, _ := strconv.Atoi(p)
	target := transport.Target{System: "VM01", Host: host, Port: port, User: "CSMWORK", Password: password}

	viaTransport := func(verify transport.VerifyMode) func(b *testing.B) {
		return func(b *testing.B) {
			b.SetBytes(size)
			ctx := context.Background()
			c, err := transport.NewFTP(transport.FTPOptions{VerifyBy: verify}).Dial(ctx, target)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			in, err := os.Open(src)
			if err != nil {
				b.Fatal(err)
			}
			defer in.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := c.Put(ctx, "BENCH.FILE", in, size); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("transport-sha256", viaTransport(transport.VerifyHash))
	b.Run("transport-size", viaTransport(transport.VerifySize))
	b.Run("curl", func(b *testing.B) {
		curl, err := exec.LookPath("curl")
		if err != nil {
			b.Fatal("curl is not installed: install the Debian package curl (make deps)")
		}
		b.SetBytes(size)
		url := fmt.Sprintf("ftp://%s/BENCH.CURL", srv.Addr())
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			out, err := exec.CommandContext(ctx, curl, "-sS", "-u", "CSMWORK:"+password, "-T", src, url).CombinedOutput()
			cancel()
			if err != nil {
				b.Fatalf("curl: %v: %s", err, out)
			}
		}
	})
}
