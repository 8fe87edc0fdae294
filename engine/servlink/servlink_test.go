package servlink_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/servlink"
	"github.com/csmsim/csmsim/fixtures"
)

// expectReason asserts err is an *Error with that reason, member and offset.
func expectReason(err error, reason servlink.ReasonCode, member string, offset int64) {
	GinkgoHelper()
	Expect(err).To(HaveOccurred())
	var e *servlink.Error
	Expect(errors.As(err, &e)).To(BeTrue(), "error %v (%T) is not a *servlink.Error", err, err)
	Expect(e.Reason).To(Equal(reason), "%v", err)
	Expect(errors.Is(err, reason)).To(BeTrue())
	Expect(e.Member).To(Equal(member), "%v", err)
	Expect(e.Offset).To(Equal(offset), "%v", err)
}

var _ = Describe("Writer, Reader and Validate", func() {
	It("round-trips: write, validate, read back the same manifest and content", func() {
		set := cmsServlink()
		w := set.write()

		m, err := servlink.Validate(bytes.NewReader(w.stream))
		Expect(err).NotTo(HaveOccurred())
		Expect(m).To(Equal(set.m))

		r, err := servlink.NewReader(bytes.NewReader(w.stream))
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Manifest()).To(Equal(set.m))
		Expect(r.Offset()).To(BeZero())
		for i, want := range set.m.Parts {
			p, pr, err := r.Next()
			Expect(err).NotTo(HaveOccurred())
			Expect(p).To(Equal(want))
			Expect(r.Offset()).To(Equal(w.offsets[i+1]))
			got, err := io.ReadAll(pr)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(set.contents[i]))
		}
		_, _, err = r.Next()
		Expect(err).To(Equal(io.EOF))
		_, _, err = r.Next()
		Expect(err).To(Equal(io.EOF))
	})

	It("writes deterministic USTAR headers: mtime from the manifest, uid/gid 0, mode 0644, no names", func() {
		set := cmsServlink()
		a, b := set.write(), set.write()
		Expect(a.stream).To(Equal(b.stream))

		tr := tar.NewReader(bytes.NewReader(a.stream))
		var names []string
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			Expect(err).NotTo(HaveOccurred())
			names = append(names, h.Name)
			Expect(h.Typeflag).To(Equal(byte(tar.TypeReg)))
			Expect(h.Format).To(Equal(tar.FormatUSTAR))
			Expect(h.ModTime).To(Equal(time.Unix(set.m.Time, 0)))
			Expect(h.Uid).To(BeZero())
			Expect(h.Gid).To(BeZero())
			Expect(h.Mode).To(Equal(int64(0o644)))
			Expect(h.Uname).To(BeEmpty())
			Expect(h.Gname).To(BeEmpty())
		}
		Expect(names).To(Equal([]string{"MANIFEST.JSON", "CMS/DELTA/DMSABC.ASSEMBLE", "CMS/BUILD/DMSNUC.TEXT", "CMS/BUILD/DMSZERO.TEXT"}))
		// Offsets follow the tar layout: 512-byte headers, content padded to 512.
		Expect(a.offsets[2] - a.offsets[1]).To(Equal(int64(512 + 1024))) // 700 bytes of content
		Expect(a.offsets[3] - a.offsets[2]).To(Equal(int64(512 + 1536))) // 1500 bytes
		Expect(a.end - a.offsets[3]).To(Equal(int64(512)))               // empty part
		Expect(int64(len(a.stream))).To(Equal(a.end + 1024))             // two end blocks
	})

	It("verifies what the caller skips: Next reads the rest of a part through the check", func() {
		set := cmsServlink()
		w := set.write()
		w.stream[w.offsets[2]+512+1499] ^= 0x01 // the last byte of DMSNUC TEXT
		r, err := servlink.NewReader(bytes.NewReader(w.stream))
		Expect(err).NotTo(HaveOccurred())
		_, _, err = r.Next()
		Expect(err).NotTo(HaveOccurred())
		_, pr, err := r.Next()
		Expect(err).NotTo(HaveOccurred())
		_, err = pr.Read(make([]byte, 10)) // read a little, leave the rest
		Expect(err).NotTo(HaveOccurred())
		_, _, err = r.Next()
		expectReason(err, servlink.ReasonSHA256, "CMS/BUILD/DMSNUC.TEXT", w.offsets[2])
		_, _, err2 := r.Next()
		Expect(err2).To(BeIdenticalTo(err), "errors are sticky")
	})

	It("reports SHA-256 mismatch at the end of the part's content, instead of io.EOF", func() {
		set := cmsServlink()
		w := set.write()
		w.stream[w.offsets[1]+512] ^= 0x80
		r, err := servlink.NewReader(bytes.NewReader(w.stream))
		Expect(err).NotTo(HaveOccurred())
		_, pr, err := r.Next()
		Expect(err).NotTo(HaveOccurred())
		got, err := io.ReadAll(pr)
		Expect(got).To(HaveLen(700))
		expectReason(err, servlink.ReasonSHA256, "CMS/DELTA/DMSABC.ASSEMBLE", w.offsets[1])
		Expect(err.Error()).To(ContainSubstring("content hashes to"))
	})

	It("reports one flipped byte anywhere in a part's content as 0808 on that member", func() {
		set := cmsServlink()
		w := set.write()
		for i, p := range set.m.Parts {
			start := w.offsets[i+1] + 512
			for pos := start; pos < start+p.Size; pos++ {
				damaged := bytes.Clone(w.stream)
				damaged[pos] ^= 0x10
				_, err := servlink.Validate(bytes.NewReader(damaged))
				expectReason(err, servlink.ReasonSHA256, p.Member(), w.offsets[i+1])
			}
		}
	})

	It("returns the FIRST failure when a stream has several", func() {
		set := cmsServlink()
		// Damaged content in part 1, part 2 out of order, part 3 missing.
		ms := set.partMembers()
		ms[0].data = bytes.Clone(ms[0].data)
		ms[0].data[5] ^= 1
		stream, offs, _ := rawTar(append([]member{manifestMember(set.m)}, ms[0], mem("CMS/APPLY/XYZ.AUX", nil)), true)
		_, err := servlink.Validate(bytes.NewReader(stream))
		expectReason(err, servlink.ReasonSHA256, ms[0].name, offs[1])

		// An invalid manifest wins over everything after it.
		bad := set.m
		bad.Parts = append([]servlink.Part{}, set.m.Parts...)
		bad.Parts[2].File = "dmszero text"
		stream, _, _ = rawTar(append([]member{manifestMember(bad)}, mem("junk", []byte("x"))), false)
		_, err = servlink.Validate(bytes.NewReader(stream))
		expectReason(err, servlink.ReasonBadName, "MANIFEST.JSON", 0)
		Expect(err.Error()).To(ContainSubstring(`parts[2] file "dmszero text": write it as "DMSZERO TEXT"`))
	})

	It("holds one buffer, not the stream: validating 16 MiB allocates well under 1 MiB", func() {
		base := fixtures.Base("720", 5, fixtures.Scale{Parts: 2, PartBytes: 1 << 20})
		var buf bytes.Buffer
		Expect(fixtures.WriteEnvelope(&buf, fixtures.RSU("720", "RSU1616", 5, base, 12))).To(Succeed())
		Expect(buf.Len()).To(BeNumerically(">", 15<<20))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := servlink.Validate(bytes.NewReader(buf.Bytes()))
		runtime.ReadMemStats(&after)
		Expect(err).NotTo(HaveOccurred())
		Expect(after.TotalAlloc - before.TotalAlloc).To(BeNumerically("<", 1<<20))
	})

	It("accepts zero padding after the end-of-archive blocks, as tar pads to a record", func() {
		w := cmsServlink().write()
		padded := append(bytes.Clone(w.stream), make([]byte, 10240-len(w.stream)%10240)...)
		_, err := servlink.Validate(bytes.NewReader(padded))
		Expect(err).NotTo(HaveOccurred())
	})

	It("validates a PACKAGE manifest that lists SERVLINKs and has no parts", func() {
		m := servlink.Manifest{
			Format: 1, Kind: servlink.KindPackage, Name: "VM010802_BLD2", Release: "720",
			Level: "VM010802_BLD2", BasedOn: "VM010801_BLD1", Components: []string{"CMS", "CP"},
			Servlinks: []servlink.ServlinkRef{
				{Component: "CMS", File: "CMS SERVLINK", Size: 9216, SHA256: strings.Repeat("ab", 32)},
				{Component: "CP", File: "CP SERVLINK", Size: 4096, SHA256: strings.Repeat("cd", 32)},
			},
		}
		var buf bytes.Buffer
		w, err := servlink.NewWriter(&buf, m)
		Expect(err).NotTo(HaveOccurred())
		Expect(w.Close()).To(Succeed())
		got, err := servlink.Validate(&buf)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal(m))
	})

	It("writes members over 8 GiB with a PAX header (size only; not streamed here)", func() {
		// A USTAR header holds sizes below 8 GiB; this checks the header
		// choice without writing the content.
		m := cmsServlink().m
		m.Parts = []servlink.Part{{Component: "CMS", Area: "BUILD", File: "BIG FILE", Size: 1 << 34, SHA256: strings.Repeat("0", 64)}}
		var buf bytes.Buffer
		w, err := servlink.NewWriter(&buf, m)
		Expect(err).NotTo(HaveOccurred())
		err = w.WritePart(m.Parts[0], strings.NewReader("short"))
		expectReason(err, servlink.ReasonSize, "CMS/BUILD/BIG.FILE", w.Offset())
		tr := tar.NewReader(bytes.NewReader(buf.Bytes()))
		_, err = tr.Next()
		Expect(err).NotTo(HaveOccurred())
		h, err := tr.Next()
		Expect(err).NotTo(HaveOccurred())
		Expect(h.Size).To(Equal(int64(1 << 34)))
		Expect(h.Format).To(Equal(tar.FormatPAX))
	})
})

var _ = Describe("Writer refusals", func() {
	var (
		set testSet
		buf bytes.Buffer
		w   *servlink.Writer
	)
	BeforeEach(func() {
		set = cmsServlink()
		buf.Reset()
		var err error
		w, err = servlink.NewWriter(&buf, set.m)
		Expect(err).NotTo(HaveOccurred())
	})

	It("refuses content shorter than the manifest size", func() {
		err := w.WritePart(set.m.Parts[0], bytes.NewReader(set.contents[0][:699]))
		expectReason(err, servlink.ReasonSize, "CMS/DELTA/DMSABC.ASSEMBLE", w.Offset())
		Expect(err.Error()).To(ContainSubstring("content ended after 699 bytes, manifest says 700"))
	})
	It("refuses content longer than the manifest size", func() {
		err := w.WritePart(set.m.Parts[0], io.MultiReader(bytes.NewReader(set.contents[0]), strings.NewReader("!")))
		expectReason(err, servlink.ReasonSize, "CMS/DELTA/DMSABC.ASSEMBLE", w.Offset())
	})
	It("refuses content whose SHA-256 differs, and stays failed", func() {
		c := bytes.Clone(set.contents[0])
		c[0] ^= 1
		err := w.WritePart(set.m.Parts[0], bytes.NewReader(c))
		expectReason(err, servlink.ReasonSHA256, "CMS/DELTA/DMSABC.ASSEMBLE", w.Offset())
		Expect(w.WritePart(set.m.Parts[1], bytes.NewReader(set.contents[1]))).To(BeIdenticalTo(err))
		Expect(w.Close()).To(BeIdenticalTo(err))
	})
	It("refuses a part whose size or SHA-256 differs from its manifest entry", func() {
		p := set.m.Parts[0]
		p.Size++
		expectReason(w.WritePart(p, bytes.NewReader(set.contents[0])), servlink.ReasonSize, p.Member(), 0)
		w, _ = servlink.NewWriter(io.Discard, set.m)
		p = set.m.Parts[0]
		p.SHA256 = strings.Repeat("0", 64)
		expectReason(w.WritePart(p, bytes.NewReader(set.contents[0])), servlink.ReasonSHA256, p.Member(), 0)
	})
	It("refuses parts out of manifest order", func() {
		err := w.WritePart(set.m.Parts[1], bytes.NewReader(set.contents[1]))
		expectReason(err, servlink.ReasonOutOfOrder, "CMS/BUILD/DMSNUC.TEXT", 0)
		Expect(err.Error()).To(ContainSubstring("part 1 of 3 in the manifest is CMS/DELTA/DMSABC.ASSEMBLE"))
	})
	It("refuses a part after the last one", func() {
		for i, p := range set.m.Parts {
			Expect(w.WritePart(p, bytes.NewReader(set.contents[i]))).To(Succeed())
		}
		err := w.WritePart(set.m.Parts[0], bytes.NewReader(set.contents[0]))
		expectReason(err, servlink.ReasonExtra, "CMS/DELTA/DMSABC.ASSEMBLE", w.Offset())
	})
	It("refuses to close with parts missing", func() {
		Expect(w.WritePart(set.m.Parts[0], bytes.NewReader(set.contents[0]))).To(Succeed())
		err := w.Close()
		expectReason(err, servlink.ReasonMissing, "CMS/BUILD/DMSNUC.TEXT", 512+1024+512+1024)
		Expect(err.Error()).To(ContainSubstring("1 of 3 parts written"))
	})
	It("refuses an invalid manifest before writing anything", func() {
		m := set.m.Clone()
		m.Parts[1].SHA256 = strings.ToUpper(m.Parts[1].SHA256)
		var out bytes.Buffer
		_, err := servlink.NewWriter(&out, m)
		expectReason(err, servlink.ReasonBadName, "MANIFEST.JSON", 0)
		Expect(out.Len()).To(BeZero())
	})
})

var _ = Describe("Manifest.Check", func() {
	base := func() servlink.Manifest { return cmsServlink().m.Clone() }
	DescribeTable("refuses",
		func(mod func(*servlink.Manifest), reason servlink.ReasonCode, detail string) {
			m := base()
			mod(&m)
			err := m.Check()
			expectReason(err, reason, "MANIFEST.JSON", 0)
			Expect(err.Error()).To(ContainSubstring(detail))
		},
		Entry("format 2", func(m *servlink.Manifest) { m.Format = 2 }, servlink.ReasonUnsupported, "format 2; this release reads format 1"),
		Entry("an unknown kind", func(m *servlink.Manifest) { m.Kind = "PTF" }, servlink.ReasonUnsupported, `kind "PTF"`),
		Entry("a lower-case name", func(m *servlink.Manifest) { m.Name = "cms"; m.Components = []string{"cms"} }, servlink.ReasonBadName, `name "cms": write it in upper case, "CMS"`),
		Entry("a release of 2 digits", func(m *servlink.Manifest) { m.Release = "72" }, servlink.ReasonBadName, "release"),
		Entry("a level of 17 characters", func(m *servlink.Manifest) { m.Level = "VM010802_BLD2_XYZ" }, servlink.ReasonBadName, "more than 16 characters"),
		Entry("a SERVLINK without based-on level", func(m *servlink.Manifest) { m.BasedOn = "" }, servlink.ReasonBadName, "basedon"),
		Entry("an envelope with a level", func(m *servlink.Manifest) { m.Kind = servlink.KindCOR }, servlink.ReasonBadName, "an envelope has no service level"),
		Entry("an origin outside LOCALMOD", func(m *servlink.Manifest) { m.Origin = "IBM" }, servlink.ReasonBadName, "only a LOCALMOD has an origin"),
		Entry("a negative time", func(m *servlink.Manifest) { m.Time = -1 }, servlink.ReasonBadName, "time -1"),
		Entry("a SERVLINK covering two components", func(m *servlink.Manifest) { m.Components = []string{"CMS", "CP"} }, servlink.ReasonBadName, "exactly its own component"),
		Entry("an unknown area", func(m *servlink.Manifest) { m.Parts[0].Area = "SOURCE" }, servlink.ReasonBadName, `parts[0] area "SOURCE"`),
		Entry("a file id with a file mode", func(m *servlink.Manifest) { m.Parts[0].File = "DMSABC ASSEMBLE A1" }, servlink.ReasonBadName, "without a file mode"),
		Entry("a file name of 9 characters", func(m *servlink.Manifest) { m.Parts[0].File = "DMSABCDEF ASSEMBLE" }, servlink.ReasonBadName, "more than 8 characters"),
		Entry("a file id with a dot", func(m *servlink.Manifest) { m.Parts[0].File = "DMS.ABC ASSEMBLE" }, servlink.ReasonBadName, "not allowed"),
		Entry("a negative size", func(m *servlink.Manifest) { m.Parts[1].Size = -5 }, servlink.ReasonBadName, "size -5: negative"),
		Entry("a short sha256", func(m *servlink.Manifest) { m.Parts[1].SHA256 = "abc" }, servlink.ReasonBadName, "want 64 lower-case hex digits"),
		Entry("a part of a component not covered", func(m *servlink.Manifest) { m.Parts[1].Component = "CP" }, servlink.ReasonBadName, `component "CP" is not in components`),
		Entry("no parts", func(m *servlink.Manifest) { m.Parts = nil }, servlink.ReasonBadName, "no parts"),
		Entry("an RSU part without PTF", func(m *servlink.Manifest) {
			m.Kind, m.Name, m.Level, m.BasedOn = servlink.KindRSU, "RSU0801", "", ""
		}, servlink.ReasonBadName, "no PTF"),
		Entry("a duplicate part", func(m *servlink.Manifest) { m.Parts[2].File = "DMSNUC TEXT" }, servlink.ReasonDuplicate, "parts[1] and parts[2] are both CMS/BUILD/DMSNUC.TEXT"),
		Entry("a duplicate component", func(m *servlink.Manifest) { m.Components = []string{"CMS", "CMS"} }, servlink.ReasonDuplicate, "component \"CMS\" listed twice"),
	)
	It("accepts the test manifests and an empty-part-free LOCALMOD", func() {
		Expect(base().Check()).To(Succeed())
		m := base()
		m.Kind, m.Name, m.Level, m.BasedOn, m.Origin = servlink.KindLocalMod, "LCL0001", "", "", "VENDOR"
		Expect(m.Check()).To(Succeed())
	})
})

var _ = Describe("Errors", func() {
	It("reads as the user needs it", func() {
		e := &servlink.Error{Package: "SERVLINK CMS", Member: "CMS/BUILD/DMSNUC.TEXT", Offset: 5120, Reason: servlink.ReasonSHA256}
		Expect(e.Error()).To(Equal(`SERVLINK CMS: member "CMS/BUILD/DMSNUC.TEXT" at offset 5120: reason 0808: SHA-256 mismatch; the package is damaged, send it again`))
		e = &servlink.Error{Offset: 0, Reason: servlink.ReasonNotTar, Detail: "empty tar stream (0 bytes): no manifest"}
		Expect(e.Error()).To(Equal(`SERVLINK: at offset 0: reason 0801: not a tar stream, or truncated: empty tar stream (0 bytes): no manifest; the package is damaged or incomplete, send it again`))
	})
	It("has a text, an action and a distinct sentinel for every reason", func() {
		seen := map[string]bool{}
		for _, c := range servlink.Reasons() {
			Expect(c.String()).To(HaveLen(4))
			Expect(c.String()).To(HavePrefix("08"))
			Expect(c.Text()).NotTo(Equal("unknown reason"))
			Expect(c.Action()).NotTo(BeEmpty())
			Expect(seen[c.Text()]).To(BeFalse())
			seen[c.Text()] = true
			err := error(&servlink.Error{Reason: c})
			for _, d := range servlink.Reasons() {
				Expect(errors.Is(err, d)).To(Equal(c == d))
			}
			got, ok := servlink.Reason(err)
			Expect(ok).To(BeTrue())
			Expect(got).To(Equal(c))
		}
		Expect(servlink.ReasonExtra.String()).To(Equal("080A"))
	})
	It("wraps the underlying cause", func() {
		_, err := servlink.Validate(bytes.NewReader(make([]byte, 700)))
		expectReason(err, servlink.ReasonNotTar, "", 0)
		Expect(errors.Is(err, io.ErrUnexpectedEOF)).To(BeTrue())
	})
})

var _ = Describe("HashReader", func() {
	It("returns the size and the lower-case hex SHA-256", func() {
		n, sum, err := servlink.HashReader(strings.NewReader("abc"))
		Expect(err).NotTo(HaveOccurred())
		Expect(n).To(Equal(int64(3)))
		Expect(sum).To(Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
	})
})
