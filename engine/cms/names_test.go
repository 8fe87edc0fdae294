package cms_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/cms"
)

// nameError asserts err is a *NameError for part and returns its message.
func nameError(err error, part string) string {
	GinkgoHelper()
	var ne *cms.NameError
	Expect(err).To(BeAssignableToTypeOf(ne))
	Expect(err.(*cms.NameError).Part).To(Equal(part))
	return err.Error()
}

var _ = Describe("FileID", func() {
	DescribeTable("accepts and folds valid ids",
		func(in, fn, ft, fm, str string) {
			id, err := cms.ParseFileID(in)
			Expect(err).NotTo(HaveOccurred())
			Expect(id.FN()).To(Equal(fn))
			Expect(id.FT()).To(Equal(ft))
			Expect(id.FM().String()).To(Equal(fm))
			Expect(id.String()).To(Equal(str))
		},
		Entry("lower case folded, mode number given", "profile exec a1", "PROFILE", "EXEC", "A1", "PROFILE EXEC A1"),
		Entry("mode number defaults to 1", "profile exec b", "PROFILE", "EXEC", "B1", "PROFILE EXEC B1"),
		Entry("mode number 0", "x y c0", "X", "Y", "C0", "X Y C0"),
		Entry("mode number 6", "x y z6", "X", "Y", "Z6", "X Y Z6"),
		Entry("no file mode", "$csmcmd $msglog", "$CSMCMD", "$MSGLOG", "", "$CSMCMD $MSGLOG"),
		Entry("all special characters, 8 long", "$#@+-:_9 ABCDEFGH", "$#@+-:_9", "ABCDEFGH", "", "$#@+-:_9 ABCDEFGH"),
		Entry("extra blanks", "  a \t b   c ", "A", "B", "C1", "A B C1"),
	)

	DescribeTable("refuses invalid ids, naming the part and the reason",
		func(in, part, msg string) {
			_, err := cms.ParseFileID(in)
			Expect(nameError(err, part)).To(Equal(msg))
		},
		Entry("filetype too long", "x TOOLONGTYPE", "filetype", `invalid filetype "TOOLONGTYPE": more than 8 characters`),
		Entry("filename too long", "ABCDEFGHI x", "filename", `invalid filename "ABCDEFGHI": more than 8 characters`),
		Entry("period in filename", "A.B x", "filename", `invalid filename "A.B": character '.' not allowed (use A-Z 0-9 $ # @ + - : _)`),
		Entry("non-ASCII in filetype", "x ÉTÉ", "filetype", `invalid filetype "ÉTÉ": character 'É' not allowed (use A-Z 0-9 $ # @ + - : _)`),
		Entry("slash in filetype", "x a/b", "filetype", `invalid filetype "a/b": character '/' not allowed (use A-Z 0-9 $ # @ + - : _)`),
		Entry("mode letter not a letter", "x y 1", "filemode", `invalid filemode "1": '1' is not a letter A-Z`),
		Entry("mode number 7", "x y a7", "filemode", `invalid filemode "a7": mode number '7' is not a digit 0-6`),
		Entry("mode number not a digit", "x y ab", "filemode", `invalid filemode "ab": mode number 'b' is not a digit 0-6`),
		Entry("file mode too long", "x y a11", "filemode", `invalid filemode "a11": more than 2 characters (a letter A-Z and a mode number 0-6)`),
		Entry("one word", "profile", "fileid", `invalid fileid "profile": want "fn ft [fm]", got 1 words`),
		Entry("four words", "a b c d", "fileid", `invalid fileid "a b c d": want "fn ft [fm]", got 4 words`),
		Entry("empty", "", "fileid", `invalid fileid "": want "fn ft [fm]", got 0 words`),
	)

	It("builds ids from parts with the same rules", func() {
		id, err := cms.NewFileID("cpload", "module", "")
		Expect(err).NotTo(HaveOccurred())
		Expect(id.String()).To(Equal("CPLOAD MODULE"))
		Expect(id.FM().IsZero()).To(BeTrue())
		Expect(id).To(Equal(cms.MustParseFileID("CPLOAD MODULE")))

		_, err = cms.NewFileID("", "module", "")
		Expect(nameError(err, "filename")).To(Equal(`invalid filename "": empty`))
		_, err = cms.NewFileID("a", "b", "?")
		Expect(nameError(err, "filemode")).To(ContainSubstring("not a letter"))
	})

	It("orders ids by file name, then file type", func() {
		a := cms.MustParseFileID("A X")
		a2 := cms.MustParseFileID("A$ B")
		b := cms.MustParseFileID("A Y")
		Expect(a.Less(b)).To(BeTrue())
		Expect(a.Less(a2)).To(BeTrue(), "by fn first although \"A.X\" > \"A$.B\"")
		Expect(b.Less(a)).To(BeFalse())
	})

	It("parses file modes with a default mode number", func() {
		m, err := cms.ParseFileMode("d")
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Letter()).To(Equal(byte('D')))
		Expect(m.Number()).To(Equal(1))
		_, err = cms.ParseFileMode("")
		Expect(nameError(err, "filemode")).To(HaveSuffix("empty"))
	})
})

var _ = Describe("userids and virtual addresses", func() {
	DescribeTable("ParseVaddr",
		func(in, want, errPart string) {
			v, err := cms.ParseVaddr(in)
			if errPart != "" {
				Expect(nameError(err, errPart)).To(HaveSuffix("must be 1-4 hex digits"))
				return
			}
			Expect(err).NotTo(HaveOccurred())
			Expect(v).To(Equal(want))
		},
		Entry("pads to 4 digits", "190", "0190", ""),
		Entry("folds hex digits", "5bc", "05BC", ""),
		Entry("full width", "FFFF", "FFFF", ""),
		Entry("too long", "10000", "", "vaddr"),
		Entry("not hex", "19G", "", "vaddr"),
		Entry("empty", "", "", "vaddr"),
	)

	It("folds userids and refuses long ones", func() {
		u, err := cms.ParseUserID("maintcsm")
		Expect(err).NotTo(HaveOccurred())
		Expect(u).To(Equal("MAINTCSM"))
		_, err = cms.ParseUserID("MAINTCSMX")
		Expect(nameError(err, "userid")).To(HaveSuffix("more than 8 characters"))
	})
})

var _ = Describe("block accounting rules", func() {
	DescribeTable("BlocksFor rounds up to 4K blocks, at least one",
		func(size, want int64) { Expect(cms.BlocksFor(size)).To(Equal(want)) },
		Entry("empty", int64(0), int64(1)),
		Entry("one byte", int64(1), int64(1)),
		Entry("exactly one block", int64(4096), int64(1)),
		Entry("one byte over", int64(4097), int64(2)),
		Entry("ten blocks", int64(40960), int64(10)),
	)

	It("knows 3390 and 3380 geometry and refuses others", func() {
		Expect(cms.BlocksPerCylinder("3390")).To(Equal(180))
		Expect(cms.BlocksPerCylinder("3380")).To(Equal(150))
		_, err := cms.BlocksPerCylinder("9336")
		Expect(nameError(err, "device type")).To(ContainSubstring("use 3390 or 3380"))
	})
})
