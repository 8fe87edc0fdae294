package cmsfs_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/sim/cmsfs"
)

const marker = "<<the one and only copy of this marker text>>"

// member is one entry of a hand-made unload stream.
type member struct {
	name string
	typ  byte
	data string
}

// craft builds an unload stream around members, with a manifest counting
// them (blocks adjusted by blockDelta) and a correct checksum trailer.
func craft(blockDelta int64, members ...member) []byte {
	GinkgoHelper()
	man := map[string]any{"source": "VMPSFS:CSM720.BASE", "dirs": 0, "files": 0, "blocks": blockDelta}
	sums := map[string]string{}
	for _, m := range members {
		if m.typ == tar.TypeDir {
			man["dirs"] = man["dirs"].(int) + 1
			continue
		}
		man["files"] = man["files"].(int) + 1
		man["blocks"] = man["blocks"].(int64) + cms.BlocksFor(int64(len(m.data)))
		s := sha256.Sum256([]byte(m.data))
		sums[m.name] = hex.EncodeToString(s[:])
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, typ byte, data []byte) {
		h := &tar.Header{Name: name, Typeflag: typ, Size: int64(len(data)), Mode: 0o644}
		if typ == tar.TypeSymlink {
			h.Linkname = "elsewhere"
		}
		Expect(tw.WriteHeader(h)).To(Succeed())
		_, err := tw.Write(data)
		Expect(err).NotTo(HaveOccurred())
	}
	b, _ := json.Marshal(man)
	add(".manifest.json", tar.TypeReg, b)
	for _, m := range members {
		add(m.name, m.typ, []byte(m.data))
	}
	b, _ = json.Marshal(sums)
	add(".sha256.json", tar.TypeReg, b)
	Expect(tw.Close()).To(Succeed())
	return buf.Bytes()
}

var _ = Describe("FILEPOOL UNLOAD and LOAD", func() {
	backends(func(newFs func() afero.Fs) {
		var (
			fs     afero.Fs
			pool   *cmsfs.FilePool
			stream []byte
		)
		mkdirs := func(ids ...string) {
			GinkgoHelper()
			for _, d := range ids {
				Expect(pool.CreateDir(dir(d), "MAINTCSM")).To(Succeed())
			}
		}
		area := func(d string) cms.FileArea {
			GinkgoHelper()
			a, err := pool.Dir(dir(d))
			Expect(err).NotTo(HaveOccurred())
			return a
		}
		used := func(space string) int64 {
			GinkgoHelper()
			_, u, err := pool.Quota(space)
			Expect(err).NotTo(HaveOccurred())
			return u
		}

		BeforeEach(func() {
			fs = newFs()
			var err error
			pool, err = newWorld(fs).DefineFilePool("VMPSFS", 100000, "MAINTCSM")
			Expect(err).NotTo(HaveOccurred())
			for space, quota := range map[string]int64{"CSM720": 1000, "OTHER": 1000, "SMALL": 5} {
				Expect(pool.Enroll("MAINTCSM", space, quota)).To(Succeed())
			}
			mkdirs("VMPSFS:CSM720.BASE", "VMPSFS:CSM720.BASE.CP", "VMPSFS:CSM720.BASE.CMS",
				"VMPSFS:CSM720.BASE.CMS.SUB", "VMPSFS:CSM720.BASE.REXX")
			Expect(put(area("VMPSFS:CSM720.BASE"), "srvrecs srvapps", []byte(":PPF.ZVM CP\n"))).To(Succeed())
			Expect(put(area("VMPSFS:CSM720.BASE"), "$csmcmd $msglog a0", nil)).To(Succeed())
			Expect(put(area("VMPSFS:CSM720.BASE.CP"), "cpload module", pattern(3*4096+17, 3))).To(Succeed())
			Expect(put(area("VMPSFS:CSM720.BASE.CP"), "mark data", []byte(marker))).To(Succeed())
			Expect(put(area("VMPSFS:CSM720.BASE.CMS.SUB"), "x y a2", pattern(4096, 8))).To(Succeed())
			var buf bytes.Buffer
			Expect(pool.Unload(dir("VMPSFS:CSM720.BASE"), &buf)).To(Succeed())
			stream = buf.Bytes()
		})

		It("reproduces the tree byte for byte in another file space", func() {
			Expect(pool.Load(bytes.NewReader(stream), dir("VMPSFS:OTHER.BASE"))).To(Succeed())
			Expect(snapshot(fs, "/sfs/VMPSFS/OTHER/BASE")).To(Equal(snapshot(fs, "/sfs/VMPSFS/CSM720/BASE")))
			Expect(used("OTHER")).To(Equal(used("CSM720")))
			Expect(used("OTHER")).To(Equal(int64(1 + 1 + 4 + 1 + 1)))
			fi, err := area("VMPSFS:OTHER.BASE.CMS.SUB").Stat(id("x y"))
			Expect(err).NotTo(HaveOccurred())
			Expect(fi.ModeNumber).To(Equal(2))
			Expect(pool.ListDirs(dir("VMPSFS:OTHER.BASE"))).To(HaveLen(4), "the empty REXX directory too")

			var again bytes.Buffer
			Expect(pool.Unload(dir("VMPSFS:CSM720.BASE"), &again)).To(Succeed())
			Expect(again.Bytes()).To(Equal(stream), "unload streams are reproducible")
		})

		It("replaces files of the same name, charging only the net change", func() {
			mkdirs("VMPSFS:OTHER.BASE", "VMPSFS:OTHER.BASE.CP")
			Expect(put(area("VMPSFS:OTHER.BASE.CP"), "cpload module a3", pattern(40*4096, 1))).To(Succeed())
			Expect(put(area("VMPSFS:OTHER.BASE.CP"), "local file", []byte("stays"))).To(Succeed())
			Expect(pool.Load(bytes.NewReader(stream), dir("VMPSFS:OTHER.BASE"))).To(Succeed())
			cp := area("VMPSFS:OTHER.BASE.CP")
			Expect(get(cp, "CPLOAD MODULE")).To(Equal(pattern(3*4096+17, 3)))
			fi, _ := cp.Stat(id("cpload module"))
			Expect(fi.ModeNumber).To(Equal(1), "the stream's mode number replaces the old one")
			Expect(get(cp, "LOCAL FILE")).To(Equal([]byte("stays")))
			Expect(used("OTHER")).To(Equal(used("CSM720") + 1))
		})

		Describe("refusals leave the target unchanged", func() {
			var before map[string]string
			var usedBefore int64
			BeforeEach(func() {
				mkdirs("VMPSFS:OTHER.BASE")
				Expect(put(area("VMPSFS:OTHER.BASE"), "already here", []byte("old"))).To(Succeed())
				before = snapshot(fs, "/")
				usedBefore = used("OTHER")
			})
			// refused loads s into target and checks that nothing changed.
			refused := func(s []byte, target string) *cms.LoadError {
				GinkgoHelper()
				err := pool.Load(bytes.NewReader(s), dir(target))
				var le *cms.LoadError
				Expect(errors.As(err, &le)).To(BeTrue(), "got %v", err)
				Expect(le.Target).To(Equal(target))
				Expect(snapshot(fs, "/")).To(Equal(before))
				Expect(used("OTHER")).To(Equal(usedBefore))
				Expect(used("SMALL")).To(BeZero())
				return le
			}

			DescribeTable("a truncated stream",
				func(cut func(n int) int) {
					le := refused(stream[:cut(len(stream))], "VMPSFS:OTHER.BASE")
					Expect(errors.Is(le, cms.ErrBadStream)).To(BeTrue())
				},
				Entry("empty", func(int) int { return 0 }),
				Entry("inside the first header", func(int) int { return 100 }),
				Entry("half way", func(n int) int { return n / 2 }),
				Entry("without the trailer", func(n int) int { return bytes.Index(stream, []byte(".sha256.json")) / 512 * 512 }),
				Entry("one byte short", func(n int) int { return n - 1 }),
			)

			It("reports a damaged header with its offset", func() {
				off := bytes.Index(stream, []byte("CMS/SUB/\x00"))
				Expect(off % 512).To(BeZero())
				bad := bytes.Clone(stream)
				bad[off+1] ^= 0x20
				le := refused(bad, "VMPSFS:OTHER.BASE")
				Expect(le.Offset).To(Equal(int64(off)))
				Expect(le.Member).To(BeEmpty())
				Expect(errors.Is(le, tar.ErrHeader)).To(BeTrue())
			})

			It("reports damaged file data by member and offset", func() {
				at := bytes.Index(stream, []byte(marker))
				bad := bytes.Clone(stream)
				bad[at+5] ^= 0x01
				le := refused(bad, "VMPSFS:OTHER.BASE")
				Expect(le.Member).To(Equal("CP/MARK.DATA"))
				Expect(le.Offset % 512).To(BeZero())
				Expect(le.Offset).To(BeNumerically("<", at))
				Expect(string(stream[le.Offset:le.Offset+100])).To(ContainSubstring("MARK.DATA"), "the offset is the member's first header")
				Expect(le.Error()).To(ContainSubstring("SHA-256 differs"))
			})

			It("refuses a load over the quota before reading on", func() {
				le := refused(stream, "VMPSFS:SMALL.BASE")
				Expect(errors.Is(le, cms.ErrQuotaExceeded)).To(BeTrue())
				Expect(le.Member).To(Equal(".manifest.json"))
				Expect(le.Error()).To(ContainSubstring("VMPSFS:SMALL.BASE: file space limit exceeded: FILEPOOL LOAD of 5 files from VMPSFS:CSM720.BASE needs 8 blocks more; file space SMALL has 5 of 5 free"))
			})

			It("refuses a tree that would lie more than 8 levels below the top", func() {
				mkdirs("VMPSFS:OTHER.D1", "VMPSFS:OTHER.D1.D2", "VMPSFS:OTHER.D1.D2.D3", "VMPSFS:OTHER.D1.D2.D3.D4",
					"VMPSFS:OTHER.D1.D2.D3.D4.D5", "VMPSFS:OTHER.D1.D2.D3.D4.D5.D6")
				before = snapshot(fs, "/")
				le := refused(stream, "VMPSFS:OTHER.D1.D2.D3.D4.D5.D6.D7")
				Expect(le.Member).To(Equal("CMS/SUB/"))
				Expect(le.Error()).To(ContainSubstring("9 levels below the top; at most 8 allowed"))
			})

			DescribeTable("refuses bad members, naming them",
				func(s func() []byte, memberName, msg string) {
					le := refused(s(), "VMPSFS:OTHER.BASE")
					Expect(le.Member).To(Equal(memberName))
					Expect(le.Error()).To(ContainSubstring(msg))
				},
				Entry("invalid file type", func() []byte { return craft(0, member{"CP/A.B.C", tar.TypeReg, "x"}) },
					"CP/A.B.C", `invalid filetype "B.C": character '.' not allowed`),
				Entry("directory name too long", func() []byte {
					return craft(0, member{"ABCDEFGHIJKLMNOPQ/", tar.TypeDir, ""})
				}, "ABCDEFGHIJKLMNOPQ/", "more than 16 characters"),
				Entry("parent reference", func() []byte { return craft(0, member{"../X.Y", tar.TypeReg, "x"}) },
					"../X.Y", `invalid directory ".."`),
				Entry("absolute path", func() []byte { return craft(0, member{"/X.Y", tar.TypeReg, "x"}) },
					"/X.Y", "member name is not a relative path"),
				Entry("empty name", func() []byte { return craft(0, member{"/", tar.TypeDir, ""}) },
					"/", "member name is not a relative path"),
				Entry("9 levels", func() []byte {
					return craft(0, member{strings.Repeat("D/", 9), tar.TypeDir, ""})
				}, strings.Repeat("D/", 9), "9 levels below the top"),
				Entry("symbolic link", func() []byte { return craft(0, member{"L.K", tar.TypeSymlink, ""}) },
					"L.K", "member type '2' not allowed"),
				Entry("duplicate", func() []byte {
					return craft(0, member{"A.B", tar.TypeReg, "1"}, member{"A.B", tar.TypeReg, "1"})
				}, "A.B", "member appears twice"),
				Entry("manifest understating blocks", func() []byte {
					return craft(-1, member{"A.B", tar.TypeReg, strings.Repeat("x", 4097)})
				}, "A.B", "more than the 1 blocks the manifest declares"),
				Entry("manifest overstating blocks", func() []byte { return craft(1, member{"A.B", tar.TypeReg, "1"}) },
					".manifest.json", "manifest declares 0 directories, 1 files, 2 blocks; stream holds 0, 1, 1"),
				Entry("no manifest", func() []byte { return craft(0)[512*2:] },
					".sha256.json", "the first member must be .manifest.json"),
			)
		})

		It("names an unusable target", func() {
			err := pool.Load(bytes.NewReader(stream), dir("VMPSFS:OTHER.NO.BASE"))
			Expect(errors.Is(err, cms.ErrNotFound)).To(BeTrue())
			Expect(err.Error()).To(HavePrefix("VMPSFS:OTHER.NO: not found"))
			Expect(errors.Is(pool.Load(bytes.NewReader(stream), dir("VMPSFS:NOBODY.BASE")), cms.ErrNotEnrolled)).To(BeTrue())
			Expect(errors.Is(pool.Load(bytes.NewReader(stream), dir("XPOOL:OTHER.BASE")), cms.ErrNoFilePool)).To(BeTrue())
			Expect(errors.Is(pool.Unload(dir("VMPSFS:CSM720.NONE"), &bytes.Buffer{}), cms.ErrNotFound)).To(BeTrue())
		})
	})
})
