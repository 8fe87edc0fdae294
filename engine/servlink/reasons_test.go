package servlink_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/servlink"
)

// provoked is a damaged stream and where Validate must report it.
type provoked struct {
	stream []byte
	member string
	offset int64
}

// withParts writes the test set's manifest then the given members (and the
// end blocks); at is the offset of member i of ms (0 = the manifest).
func withParts(set testSet, ms []member) (stream []byte, at func(int) int64, end int64) {
	stream, offs, end := rawTar(append([]member{manifestMember(set.m)}, ms...), true)
	return stream, func(i int) int64 { return offs[i] }, end
}

var _ = Describe("Validate reason codes", func() {
	DescribeTable("reports the reason, the member and the offset of its header",
		func(reason servlink.ReasonCode, make func() provoked, detail string) {
			p := make()
			_, err := servlink.Validate(bytes.NewReader(p.stream))
			expectReason(err, reason, p.member, p.offset)
			Expect(err.Error()).To(ContainSubstring(detail))

			// The Reader reports the same failure.
			var rerr error
			r, rerr := servlink.NewReader(bytes.NewReader(p.stream))
			for rerr == nil {
				_, _, rerr = r.Next()
			}
			expectReason(rerr, reason, p.member, p.offset)
		},

		Entry("0801 empty stream", servlink.ReasonNotTar, func() provoked {
			return provoked{stream: nil}
		}, "empty tar stream"),
		Entry("0801 not a tar stream", servlink.ReasonNotTar, func() provoked {
			return provoked{stream: []byte(strings.Repeat("this is not tar ", 64))}
		}, "invalid tar header"),
		Entry("0801 truncated inside a header", servlink.ReasonNotTar, func() provoked {
			w := cmsServlink().write()
			return provoked{stream: w.stream[:w.offsets[2]+100], offset: w.offsets[2]}
		}, "where member CMS/BUILD/DMSNUC.TEXT should start"),
		Entry("0801 truncated inside a part", servlink.ReasonNotTar, func() provoked {
			w := cmsServlink().write()
			return provoked{stream: w.stream[:w.offsets[2]+512+1000], member: "CMS/BUILD/DMSNUC.TEXT", offset: w.offsets[2]}
		}, "content cut short, 500 of 1500 bytes missing"),
		Entry("0801 truncated inside the manifest", servlink.ReasonNotTar, func() provoked {
			w := cmsServlink().write()
			return provoked{stream: w.stream[:600], member: "MANIFEST.JSON", offset: 0}
		}, "manifest cut short"),
		Entry("0801 end-of-archive blocks missing", servlink.ReasonNotTar, func() provoked {
			w := cmsServlink().write()
			return provoked{stream: w.stream[:w.end+512], offset: w.end}
		}, "without the end-of-archive blocks"),

		Entry("0802 first member is a part", servlink.ReasonNoManifest, func() provoked {
			set := cmsServlink()
			s, _, _ := rawTar(set.partMembers(), true)
			return provoked{stream: s, member: "CMS/DELTA/DMSABC.ASSEMBLE", offset: 0}
		}, `found "CMS/DELTA/DMSABC.ASSEMBLE", a regular file`),
		Entry("0802 first member is a directory named like the manifest", servlink.ReasonNoManifest, func() provoked {
			s, _, _ := rawTar([]member{{name: "MANIFEST.JSON", typeflag: tar.TypeDir, size: -1}}, true)
			return provoked{stream: s, member: "MANIFEST.JSON", offset: 0}
		}, "a directory"),

		Entry("0803 manifest is not JSON", servlink.ReasonBadManifest, func() provoked {
			s, _, _ := rawTar([]member{mem("MANIFEST.JSON", []byte(`{"format": 1, "kind": "RSU",`))}, true)
			return provoked{stream: s, member: "MANIFEST.JSON"}
		}, "unexpected end of JSON input"),
		Entry("0803 manifest has an unknown field", servlink.ReasonBadManifest, func() provoked {
			var m map[string]any
			b, _ := json.Marshal(cmsServlink().m)
			json.Unmarshal(b, &m)
			m["priority"] = "high"
			s, _, _ := rawTar([]member{manifestMember(m)}, true)
			return provoked{stream: s, member: "MANIFEST.JSON"}
		}, `unknown field "priority"`),
		Entry("0803 manifest has data after the JSON object", servlink.ReasonBadManifest, func() provoked {
			b, _ := json.Marshal(cmsServlink().m)
			s, _, _ := rawTar([]member{mem("MANIFEST.JSON", append(b, []byte("{}")...))}, true)
			return provoked{stream: s, member: "MANIFEST.JSON"}
		}, "after top-level value"),
		Entry("0803 manifest too large (refused before it is read)", servlink.ReasonBadManifest, func() provoked {
			s, _, _ := rawTar([]member{{name: "MANIFEST.JSON", data: []byte("{}"), size: servlink.MaxManifestSize + 1}}, false)
			return provoked{stream: s, member: "MANIFEST.JSON"}
		}, "16777217 bytes; at most 16777216 allowed"),

		Entry("0804 format 2", servlink.ReasonUnsupported, func() provoked {
			m := cmsServlink().m
			m.Format = 2
			s, _, _ := rawTar([]member{manifestMember(m)}, true)
			return provoked{stream: s, member: "MANIFEST.JSON"}
		}, "format 2; this release reads format 1"),
		Entry("0804 unknown kind, even with fields of another format", servlink.ReasonUnsupported, func() provoked {
			s, _, _ := rawTar([]member{mem("MANIFEST.JSON", []byte(`{"format":1,"kind":"BUNDLE","name":"X","extra":true}`))}, true)
			return provoked{stream: s, member: "MANIFEST.JSON"}
		}, `kind "BUNDLE"`),

		Entry("0805 invalid CMS file id in the manifest", servlink.ReasonBadName, func() provoked {
			set := cmsServlink()
			set.m.Parts[1].File = "DMSNUC.TEXT"
			s, _, _ := withParts(set, set.partMembers())
			return provoked{stream: s, member: "MANIFEST.JSON"}
		}, `parts[1] file "DMSNUC.TEXT"`),
		Entry("0805 unknown area", servlink.ReasonBadName, func() provoked {
			set := cmsServlink()
			set.m.Parts[0].Area = "LOCAL"
			s, _, _ := withParts(set, nil)
			return provoked{stream: s, member: "MANIFEST.JSON"}
		}, `area "LOCAL"`),

		Entry("0806 parts swapped", servlink.ReasonOutOfOrder, func() provoked {
			set := cmsServlink()
			ms := set.partMembers()
			s, at, _ := withParts(set, []member{ms[0], ms[2], ms[1]})
			return provoked{stream: s, member: ms[2].name, offset: at(2)}
		}, "is part 3 of 3; expected CMS/BUILD/DMSNUC.TEXT (part 2) here"),
		Entry("0806 a member the manifest does not list", servlink.ReasonOutOfOrder, func() provoked {
			set := cmsServlink()
			ms := set.partMembers()
			s, at, _ := withParts(set, []member{ms[0], mem("CMS/BUILD/EVIL.EXEC", []byte("x")), ms[1], ms[2]})
			return provoked{stream: s, member: "CMS/BUILD/EVIL.EXEC", offset: at(2)}
		}, "not in the manifest"),
		Entry("0806 a part twice", servlink.ReasonOutOfOrder, func() provoked {
			set := cmsServlink()
			ms := set.partMembers()
			s, at, _ := withParts(set, []member{ms[0], ms[0], ms[1], ms[2]})
			return provoked{stream: s, member: ms[0].name, offset: at(2)}
		}, "appears again"),
		Entry("0806 a second manifest", servlink.ReasonOutOfOrder, func() provoked {
			set := cmsServlink()
			s, at, _ := withParts(set, []member{manifestMember(set.m)})
			return provoked{stream: s, member: "MANIFEST.JSON", offset: at(1)}
		}, "not in the manifest"),
		Entry("0806 a part that is a symlink", servlink.ReasonOutOfOrder, func() provoked {
			set := cmsServlink()
			ms := set.partMembers()
			ms[1] = member{name: ms[1].name, typeflag: tar.TypeSymlink, size: 0}
			s, at, _ := withParts(set, ms)
			return provoked{stream: s, member: ms[1].name, offset: at(2)}
		}, "a link; parts are regular files"),

		Entry("0807 member size differs from the manifest", servlink.ReasonSize, func() provoked {
			set := cmsServlink()
			ms := set.partMembers()
			ms[1].data = ms[1].data[:1499]
			s, at, _ := withParts(set, ms)
			return provoked{stream: s, member: ms[1].name, offset: at(2)}
		}, "member has 1499 bytes, manifest says 1500"),

		Entry("0808 content differs", servlink.ReasonSHA256, func() provoked {
			set := cmsServlink()
			ms := set.partMembers()
			ms[0].data = bytes.Clone(ms[0].data)
			ms[0].data[699] = ^ms[0].data[699]
			s, at, _ := withParts(set, ms)
			return provoked{stream: s, member: ms[0].name, offset: at(1)}
		}, "content hashes to"),
		Entry("0808 in a member with a PAX extended header (offset of the PAX header)", servlink.ReasonSHA256, func() provoked {
			set := cmsServlink()
			ms := set.partMembers()
			ms[1].pax = map[string]string{"comment": "carried by a PAX header"}
			ms[1].data = bytes.Clone(ms[1].data)
			ms[1].data[0] ^= 4
			s, at, _ := withParts(set, ms)
			Expect(at(2) - at(1)).To(Equal(int64(512 + 1024))) // the PAX header block follows part 1 directly
			return provoked{stream: s, member: ms[1].name, offset: at(2)}
		}, "content hashes to"),

		Entry("0809 last part missing", servlink.ReasonMissing, func() provoked {
			set := cmsServlink()
			ms := set.partMembers()
			s, _, end := withParts(set, ms[:2])
			return provoked{stream: s, member: ms[2].name, offset: end}
		}, "the stream ends after 2 of 3 parts"),
		Entry("0809 all parts missing, end blocks too", servlink.ReasonMissing, func() provoked {
			set := cmsServlink()
			s, offs, end := rawTar([]member{manifestMember(set.m)}, false)
			_ = offs
			return provoked{stream: s, member: set.m.Parts[0].Member(), offset: end}
		}, "the stream ends after 0 of 3 parts"),

		Entry("080A a member after the last part", servlink.ReasonExtra, func() provoked {
			set := cmsServlink()
			s, at, _ := withParts(set, append(set.partMembers(), mem("CMS/BUILD/LATE.EXEC", []byte("late"))))
			return provoked{stream: s, member: "CMS/BUILD/LATE.EXEC", offset: at(4)}
		}, "after the last part of the manifest"),
		Entry("080A data after the end-of-archive blocks", servlink.ReasonExtra, func() provoked {
			w := cmsServlink().write()
			s := append(bytes.Clone(w.stream), make([]byte, 700)...)
			s[len(w.stream)+600] = 'x'
			return provoked{stream: s, offset: int64(len(w.stream) + 600)}
		}, "data after the end-of-archive blocks"),

		Entry("080B the same part listed twice", servlink.ReasonDuplicate, func() provoked {
			set := cmsServlink()
			ms := set.partMembers()
			set.m.Parts = append(set.m.Parts, set.m.Parts[0])
			s, _, _ := withParts(set, ms)
			return provoked{stream: s, member: "MANIFEST.JSON"}
		}, "parts[0] and parts[3] are both CMS/DELTA/DMSABC.ASSEMBLE"),
	)

	It("provokes every reason code in the table above", func() {
		// Guard against a reason being added without a test: the entries
		// above cover each of these.
		Expect(servlink.Reasons()).To(HaveLen(11))
	})
})

var _ = Describe("NewTrustedReader, for a stream whose own SHA-256 matched its manifest", func() {
	readAll := func(stream []byte) error {
		r, err := servlink.NewTrustedReader(bytes.NewReader(stream))
		for err == nil {
			_, _, err = r.Next()
		}
		if err == io.EOF {
			return nil
		}
		return err
	}

	It("reads every part without hashing it again: changed content passes, as the stream's sum vouches for it", func() {
		set := cmsServlink()
		ms := set.partMembers()
		ms[0].data = bytes.Clone(ms[0].data)
		ms[0].data[699] = ^ms[0].data[699]
		s, _, _ := withParts(set, ms)
		Expect(readAll(set.write().stream)).To(Succeed())
		Expect(readAll(s)).To(Succeed())
		_, err := servlink.Validate(bytes.NewReader(s))
		Expect(err).To(HaveOccurred(), "the untrusted reader still finds it")
	})

	It("still checks the structure and every size", func() {
		set := cmsServlink()
		ms := set.partMembers()
		ms[1].data = ms[1].data[:1499]
		s, at, _ := withParts(set, ms)
		expectReason(readAll(s), servlink.ReasonSize, ms[1].name, at(2))

		cut := set.write().stream
		Expect(errors.Is(readAll(cut[:len(cut)-2000]), servlink.ReasonNotTar)).To(BeTrue(), "a stream cut short")
	})
})
