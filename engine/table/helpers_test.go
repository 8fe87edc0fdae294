package table_test

import (
	"io"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/cms/cmstest"
	"github.com/csmsim/csmsim/engine/table"
)

// newArea is a file area in memory (MAINTCSM's top directory) of quota
// blocks.
func newArea(quota int64) cms.FileArea {
	return cmstest.NewMemArea("VMPSFS:MAINTCSM.", quota)
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

// hookLocker runs hook once, before the first lock it is asked for: a
// second writer that comes between a command's read and its write.
type hookLocker struct {
	table.Locker
	hook  func()
	fired bool
}

func (h *hookLocker) Lock(resource string) (func(), error) {
	if !h.fired && h.hook != nil {
		h.fired = true
		h.hook()
	}
	return h.Locker.Lock(resource)
}
