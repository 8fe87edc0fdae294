package agent

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// The header of a DDR dump file (docs/ddr-dump-format.md), as much of it
// as CSMPKGLD needs to know before restoring: the device type and how many
// cylinders the dump holds, so that the restore is known to stay inside
// the recomp area. The restore itself verifies the whole dump again.
const (
	dumpMagic      = "CSMDDUMP"
	dumpHeaderSize = 96
	dumpFields     = 64
)

type dumpHeader struct {
	devType     string
	first, last int // dumped cylinders, relative to the source minidisk
}

func (h dumpHeader) cylinders() int { return h.last - h.first + 1 }

// readDumpHeader reads and checks the first 96 bytes of a dump.
func readDumpHeader(r io.Reader) (dumpHeader, error) {
	b := make([]byte, dumpHeaderSize)
	if _, err := io.ReadFull(r, b); err != nil {
		return dumpHeader{}, fmt.Errorf("the header is cut short: %v", err)
	}
	if string(b[:8]) != dumpMagic {
		return dumpHeader{}, fmt.Errorf("it does not start with %s", dumpMagic)
	}
	if sum := sha256.Sum256(b[:dumpFields]); !bytes.Equal(sum[:], b[dumpFields:]) {
		return dumpHeader{}, fmt.Errorf("the header's SHA-256 does not match; the dump is damaged")
	}
	if v := binary.BigEndian.Uint16(b[8:]); v != 1 {
		return dumpHeader{}, fmt.Errorf("format version %d; this release reads version 1", v)
	}
	h := dumpHeader{
		devType: strings.TrimRight(string(b[12:20]), " "),
		first:   int(binary.BigEndian.Uint16(b[40:])),
		last:    int(binary.BigEndian.Uint16(b[42:])),
	}
	if h.first > h.last {
		return dumpHeader{}, fmt.Errorf("cylinders %d-%d are out of order", h.first, h.last)
	}
	return h, nil
}
