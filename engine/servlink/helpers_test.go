package servlink_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/csmsim/csmsim/engine/servlink"
)

// testContent is deterministic content for part i.
func testContent(i int, size int) []byte {
	b := make([]byte, size)
	rand.NewChaCha8([32]byte{byte(i), 'c', 's', 'm'}).Read(b)
	return b
}

// testPart is a manifest entry for content.
func testPart(comp, area, file string, content []byte, nucleus bool) servlink.Part {
	size, sum := servlink.HashBytes(content)
	return servlink.Part{Component: comp, Area: area, File: file, Size: size, SHA256: sum, Nucleus: nucleus}
}

// testSet is a manifest with its part contents.
type testSet struct {
	m        servlink.Manifest
	contents [][]byte
}

// cmsServlink is a SERVLINK CMS with three parts: 700 bytes, 1500 bytes
// (nucleus), and an empty one.
func cmsServlink() testSet {
	c := [][]byte{testContent(1, 700), testContent(2, 1500), {}}
	return testSet{
		m: servlink.Manifest{
			Format: 1, Kind: servlink.KindServlink, Name: "CMS", Release: "720",
			Level: "VM010802_BLD2", BasedOn: "VM010801_BLD1", Time: 1700000000,
			Components: []string{"CMS"},
			Parts: []servlink.Part{
				testPart("CMS", "DELTA", "DMSABC ASSEMBLE", c[0], false),
				testPart("CMS", "BUILD", "DMSNUC TEXT", c[1], true),
				testPart("CMS", "BUILD", "DMSZERO TEXT", c[2], false),
			},
		},
		contents: c,
	}
}

// written is a stream made by servlink.Writer with the offsets it reported.
type written struct {
	stream  []byte
	offsets []int64 // header offset of each member: [0] the manifest, [i+1] part i
	end     int64   // where the end-of-archive blocks start
}

func (s testSet) write() written {
	var buf bytes.Buffer
	w, err := servlink.NewWriter(&buf, s.m)
	if err != nil {
		panic(err)
	}
	out := written{offsets: []int64{w.Offset()}}
	for i, p := range s.m.Parts {
		if err := w.WritePart(p, bytes.NewReader(s.contents[i])); err != nil {
			panic(err)
		}
		out.offsets = append(out.offsets, w.Offset())
	}
	out.end = w.Written() + int64(-w.Written()&511) // the last member's padding is written by Close
	if err := w.Close(); err != nil {
		panic(err)
	}
	out.stream = buf.Bytes()
	return out
}

// member of a hand-made tar stream.
type member struct {
	name     string
	data     []byte
	size     int64 // header size; -1 means len(data)
	typeflag byte
	pax      map[string]string
}

func mem(name string, data []byte) member { return member{name: name, data: data, size: -1} }

func manifestMember(m any) member {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return mem(servlink.ManifestName, b)
}

// partMembers are the members of s's parts, in manifest order.
func (s testSet) partMembers() []member {
	var ms []member
	for i, p := range s.m.Parts {
		ms = append(ms, mem(p.Member(), s.contents[i]))
	}
	return ms
}

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// rawTar writes members with archive/tar, recording the offset of each
// member's first header block, and the end-of-archive blocks if end.
// A member whose data is shorter than its size is written short and the
// stream stops there.
func rawTar(members []member, end bool) (stream []byte, offsets []int64, endOff int64) {
	var buf bytes.Buffer
	c := &counter{w: &buf}
	tw := tar.NewWriter(c)
	for _, m := range members {
		if err := tw.Flush(); err != nil {
			panic(err)
		}
		offsets = append(offsets, c.n)
		size := m.size
		if size < 0 {
			size = int64(len(m.data))
		}
		tf := m.typeflag
		if tf == 0 {
			tf = tar.TypeReg
		}
		h := &tar.Header{Name: m.name, Size: size, Typeflag: tf, Mode: 0o644, Format: tar.FormatUSTAR}
		if tf == tar.TypeDir {
			h.Size = 0
		}
		if m.pax != nil {
			h.PAXRecords = m.pax
			h.Format = tar.FormatPAX
		}
		if err := tw.WriteHeader(h); err != nil {
			panic(fmt.Sprint(m.name, err))
		}
		if h.Size > 0 {
			if _, err := tw.Write(m.data[:min(int64(len(m.data)), size)]); err != nil {
				panic(err)
			}
		}
		if int64(len(m.data)) < h.Size {
			return buf.Bytes(), offsets, -1
		}
	}
	if err := tw.Flush(); err != nil {
		panic(err)
	}
	endOff = c.n
	if end {
		if err := tw.Close(); err != nil {
			panic(err)
		}
	}
	return buf.Bytes(), offsets, endOff
}
