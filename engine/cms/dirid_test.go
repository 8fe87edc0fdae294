package cms_test

import (
	"errors"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/cms"
)

// levels builds a dir id n levels below the top of VMPSFS:CSM720.
func levels(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("D%d", i+1)
	}
	return "VMPSFS:CSM720." + strings.Join(names, ".")
}

var _ = Describe("DirID", func() {
	It("parses, folds and prints a directory", func() {
		d, err := cms.ParseDirID("vmpsfs:csm720.base.cp")
		Expect(err).NotTo(HaveOccurred())
		Expect(d.Pool()).To(Equal("VMPSFS"))
		Expect(d.Space()).To(Equal("CSM720"))
		Expect(d.Names()).To(Equal([]string{"BASE", "CP"}))
		Expect(d.Depth()).To(Equal(2))
		Expect(d.String()).To(Equal("VMPSFS:CSM720.BASE.CP"))
		Expect(d.IsTop()).To(BeFalse())
	})

	DescribeTable("names the top directory with or without the period",
		func(in string) {
			d, err := cms.ParseDirID(in)
			Expect(err).NotTo(HaveOccurred())
			Expect(d.IsTop()).To(BeTrue())
			Expect(d.Depth()).To(Equal(0))
			Expect(d.Names()).To(BeEmpty())
			Expect(d.String()).To(Equal("VMPSFS:CSM720."))
		},
		Entry("with period", "VMPSFS:CSM720."),
		Entry("without period", "VMPSFS:CSM720"),
	)

	It("walks up with Parent and down with Child", func() {
		d := cms.MustParseDirID("VMPSFS:MAINTCSM.VM01.LOGS")
		p, ok := d.Parent()
		Expect(ok).To(BeTrue())
		Expect(p.String()).To(Equal("VMPSFS:MAINTCSM.VM01"))
		top, ok := p.Parent()
		Expect(ok).To(BeTrue())
		Expect(top).To(Equal(d.Top()))
		_, ok = top.Parent()
		Expect(ok).To(BeFalse())

		c, err := p.Child("logs")
		Expect(err).NotTo(HaveOccurred())
		Expect(c).To(Equal(d), "DirID is comparable and Child folds")
		_, err = p.Child("a.b")
		Expect(nameError(err, "directory")).To(ContainSubstring("character '.' not allowed"))
	})

	It("allows 8 levels below the top and refuses 9", func() {
		d, err := cms.ParseDirID(levels(8))
		Expect(err).NotTo(HaveOccurred())
		Expect(d.Depth()).To(Equal(8))

		_, err = cms.ParseDirID(levels(9))
		Expect(nameError(err, "directory")).To(Equal(
			fmt.Sprintf("invalid directory %q: 9 levels below the top; at most 8 allowed", levels(9))))

		_, err = d.Child("D9")
		Expect(nameError(err, "directory")).To(Equal(
			fmt.Sprintf("invalid directory %q: 9 levels below the top; at most 8 allowed", levels(9))))
	})

	It("allows 16-character directory names and refuses 17", func() {
		_, err := cms.ParseDirID("VMPSFS:CSM720.VM010802_BLD2_XY")
		Expect(err).NotTo(HaveOccurred())
		_, err = cms.ParseDirID("VMPSFS:CSM720.VM010802_BLD2_XYZ")
		Expect(nameError(err, "directory")).To(Equal(`invalid directory "VM010802_BLD2_XYZ": more than 16 characters`))
	})

	DescribeTable("refuses bad ids, naming the part and the reason",
		func(in, part, reason string) {
			_, err := cms.ParseDirID(in)
			Expect(nameError(err, part)).To(ContainSubstring(reason))
		},
		Entry("missing filepool", "CSM720.BASE", "filepool", `missing in "CSM720.BASE" (write POOL:SPACE.DIR`),
		Entry("empty filepool", ":CSM720.BASE", "filepool", "empty"),
		Entry("filepool too long", "VMPSFSXYZ:CSM720.", "filepool", "more than 8 characters"),
		Entry("empty file space", "VMPSFS:", "filespace", "empty"),
		Entry("file space too long", "VMPSFS:CSM720ABC.X", "filespace", "more than 8 characters"),
		Entry("bad character in file space", "VMPSFS:CSM/720.X", "filespace", "character '/' not allowed"),
		Entry("empty directory name", "VMPSFS:CSM720.BASE..CP", "directory", `"": empty`),
		Entry("trailing period below the top", "VMPSFS:CSM720.BASE.", "directory", `"": empty`),
		Entry("bad character in a directory", "VMPSFS:CSM720.BA*SE", "directory", "character '*' not allowed"),
	)

	It("builds ids from parts and refuses a ':' in the pool name", func() {
		d, err := cms.NewDirID("vmpsfs", "csm720", "base")
		Expect(err).NotTo(HaveOccurred())
		Expect(d.String()).To(Equal("VMPSFS:CSM720.BASE"))
		_, err = cms.NewDirID("A:B", "csm720")
		Expect(nameError(err, "filepool")).To(ContainSubstring("':' not allowed"))
		Expect(cms.DirID{}.IsZero()).To(BeTrue())
	})
})

var _ = Describe("errors", func() {
	It("lets the engine test conditions and read the object", func() {
		var err error = &cms.Error{Object: "VMPSFS:CSM720.BASE.CP", Err: cms.ErrQuotaExceeded, Detail: "write needs 12 blocks"}
		Expect(errors.Is(err, cms.ErrQuotaExceeded)).To(BeTrue())
		Expect(errors.Is(err, cms.ErrDiskFull)).To(BeFalse())
		Expect(err.Error()).To(Equal("VMPSFS:CSM720.BASE.CP: file space limit exceeded: write needs 12 blocks"))
		Expect((&cms.Error{Object: "X Y in MAINT 0190", Err: cms.ErrNotFound}).Error()).To(Equal("X Y in MAINT 0190: not found"))
	})

	It("reports a refused load with member and offset, and unwraps", func() {
		var err error = &cms.LoadError{Target: "VMPSFS:B.", Member: "CP/X.Y", Offset: 1536, Err: cms.ErrBadStream}
		Expect(err.Error()).To(Equal(`FILEPOOL LOAD into VMPSFS:B.: member "CP/X.Y" at offset 1536: not a valid FILEPOOL UNLOAD stream`))
		Expect(errors.Is(err, cms.ErrBadStream)).To(BeTrue())
		err = &cms.LoadError{Target: "VMPSFS:B.", Offset: 512, Err: cms.ErrBadStream}
		Expect(err.Error()).To(Equal(`FILEPOOL LOAD into VMPSFS:B.: at offset 512: not a valid FILEPOOL UNLOAD stream`))
	})
})
