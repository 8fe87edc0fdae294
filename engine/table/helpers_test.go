package table_test

import (
	"io"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/sim/cmsfs"
)

// newArea is MAINTCSM's top directory in a fresh MemMapFs world, with a
// file space of quota blocks.
func newArea(quota int64) cms.FileArea {
	GinkgoHelper()
	w, err := cmsfs.New(afero.NewMemMapFs())
	Expect(err).NotTo(HaveOccurred())
	pool, err := w.DefineFilePool("VMPSFS", 1_000_000, "MAINTCSM")
	Expect(err).NotTo(HaveOccurred())
	Expect(pool.Enroll("MAINTCSM", "MAINTCSM", quota)).To(Succeed())
	area, err := pool.Dir(cms.MustParseDirID("VMPSFS:MAINTCSM."))
	Expect(err).NotTo(HaveOccurred())
	return area
}

func put(a cms.FileArea, id cms.FileID, text string) {
	GinkgoHelper()
	w, err := a.Create(id)
	Expect(err).NotTo(HaveOccurred())
	_, err = w.Write([]byte(text))
	Expect(err).NotTo(HaveOccurred())
	Expect(w.Close()).To(Succeed())
}

func contents(a cms.FileArea, id cms.FileID) string {
	GinkgoHelper()
	r, err := a.Open(id)
	Expect(err).NotTo(HaveOccurred())
	defer r.Close()
	b, err := io.ReadAll(r)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

func mustParse(text string) *table.Table {
	GinkgoHelper()
	t, err := table.Parse("CSM SYSSTAT", strings.NewReader(text))
	Expect(err).NotTo(HaveOccurred())
	return t
}

func format(t *table.Table) string {
	GinkgoHelper()
	var b strings.Builder
	_, err := t.WriteTo(&b)
	Expect(err).NotTo(HaveOccurred())
	return b.String()
}

func entry(line string) table.Entry {
	GinkgoHelper()
	e, err := table.ParseEntry(line)
	Expect(err).NotTo(HaveOccurred())
	return e
}

func gen(n uint64) *uint64 { return &n }
