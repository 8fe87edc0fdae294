package world

import (
	"io"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/fixtures"
)

// SamplePrincipal makes the principal of the seed's sample scenario in
// fsys, ready for SERVMGR INITIALIZE 720: the sample BASE unloaded on
// MAINT720 5BC, MAINTCSM enrolled as VMPSFS administrator, and the sample
// envelopes (RSU0801, RSU0802 SERVLINK) on MAINTCSM's A-disk.
func SamplePrincipal(fsys afero.Fs) (*System, error) {
	base, _, _ := fixtures.Sample()
	s, err := InitPrincipal(fsys, PrincipalOptions{Unload: BaseUnload(base)})
	if err != nil {
		return nil, err
	}
	if err := s.CMS().Exec("MAINT", []string{"ENROLL ADMIN MAINTCSM VMPSFS:"}, io.Discard); err != nil {
		return nil, err
	}
	disk, err := s.Minidisk("MAINTCSM", "0191")
	if err != nil {
		return nil, err
	}
	for _, e := range fixtures.SampleEnvelopes() {
		err := cms.WriteFile(disk, cms.MustParseFileID(e.FileID()), func(w io.Writer) error { return fixtures.WriteEnvelope(w, e) })
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}
