package csmserve_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/sim/cmsfs"
	"github.com/csmsim/csmsim/sim/csmserve"
	"github.com/csmsim/csmsim/sim/extents"
	"github.com/csmsim/csmsim/sim/hostfs"
)

// On a host directory CSMSERVE's staging disk splits what it receives;
// over FTP every file still is exactly the bytes that arrived.
var _ = Describe("a node whose staging disk is a host directory", func() {
	var (
		n    *node
		root string
		link []byte // a tar stream with three large members
	)
	BeforeEach(func() {
		root = GinkgoT().TempDir()
		w, err := cmsfs.New(hostfs.New(root))
		Expect(err).NotTo(HaveOccurred())
		disk, err := w.DefineMinidisk(cmsfs.MinidiskDef{Owner: "CSMSERVE", Vaddr: "0191", DevType: "3390", Cylinders: 10})
		Expect(err).NotTo(HaveOccurred())
		n = startNode(csmserve.Config{Fs: disk.RawFs()})
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for i, size := range []int{extents.MinExtent, 100, 2*extents.MinExtent + 3, extents.MinExtent + 1} {
			Expect(tw.WriteHeader(&tar.Header{Name: string(rune('A' + i)), Size: int64(size), Mode: 0o644})).To(Succeed())
			Expect(tw.Write(bytes.Repeat([]byte{byte(i)}, size))).To(Equal(size))
		}
		Expect(tw.Close()).To(Succeed())
		link = b.Bytes()
	})
	extentFiles := func() []string {
		GinkgoHelper()
		names, err := extents.Names(filepath.Join(root, "mdisk", "CSMSERVE.0191"))
		Expect(err).NotTo(HaveOccurred())
		return names
	}
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

	It("serves a SERVLINK it split back byte for byte: RETR, SIZE, XSHA256, a listing with no trace of the extents", func() {
		c := loggedIn(n)
		code, text := c.upload("STOR CMS.SERVLINK", link)
		Expect(code).To(Equal(226), text)
		Expect(extentFiles()).To(HaveLen(3))
		code, text, got := c.retr("CMS.SERVLINK")
		Expect(code).To(Equal(226), text)
		Expect(got).To(Equal(link))
		code, size := c.cmd("SIZE CMS.SERVLINK")
		Expect(code).To(Equal(213))
		Expect(size).To(Equal(itoa(len(link))))
		code, text = c.cmd("XSHA256 CMS.SERVLINK")
		Expect(code).To(Equal(250), text)
		Expect(text).To(ContainSubstring(sum(link)))
		Expect(c.nlst()).To(Equal([]string{"CMS.SERVLINK"}))
		code, _ = c.cmd("SIZE .extents")
		Expect(code).To(Equal(550))
	})

	It("makes a split file whole before an APPE writes to it in place, and removes the extents of one deleted or replaced", func() {
		c := loggedIn(n)
		code, text := c.upload("STOR CMS.SERVLINK", link)
		Expect(code).To(Equal(226), text)
		tail := []byte("and then some")
		code, text = c.upload("APPE CMS.SERVLINK", tail)
		Expect(code).To(Equal(226), text)
		Expect(extentFiles()).To(BeEmpty())
		_, _, got := c.retr("CMS.SERVLINK")
		Expect(got).To(Equal(append(append([]byte{}, link...), tail...)))
		code, text = c.cmd("XSHA256 CMS.SERVLINK")
		Expect(code).To(Equal(250), text)
		Expect(text).To(ContainSubstring(sum(got)), "hashed again: an append drops the receipt")

		code, text = c.upload("STOR CMS.SERVLINK", link)
		Expect(code).To(Equal(226), text)
		code, text = c.upload("STOR CP.SERVLINK", link)
		Expect(code).To(Equal(226), text)
		Expect(extentFiles()).To(HaveLen(6))
		code, text = c.upload("STOR CMS.SERVLINK", link) // replaced: its old extents go
		Expect(code).To(Equal(226), text)
		Expect(extentFiles()).To(HaveLen(6))
		code, text = c.cmd("DELE CP.SERVLINK")
		Expect(code).To(Equal(250), text)
		Expect(extentFiles()).To(HaveLen(3))
		code, text = c.cmd("RNFR CMS.SERVLINK")
		Expect(code).To(Equal(350), text)
		code, text = c.cmd("RNTO GCS.SERVLINK")
		Expect(code).To(Equal(250), text)
		_, _, got = c.retr("GCS.SERVLINK")
		Expect(got).To(Equal(link))
	})
})
