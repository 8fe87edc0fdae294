package world

import (
	"io"
	"slices"

	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/level"
	"github.com/csmsim/csmsim/fixtures"
)

// SamplePrincipal makes the principal of the seed's sample scenario in
// fsys, ready for SERVMGR INITIALIZE 720: the sample BASE unloaded on
// MAINT720 5BC, MAINTCSM enrolled as VMPSFS administrator, and the sample
// envelopes (RSU0801, RSU0802 SERVLINK) on MAINTCSM's A-disk.
func SamplePrincipal(fsys afero.Fs) (*System, error) {
	return SamplePrincipalWith(fsys, PrincipalOptions{}, true)
}

// SamplePrincipalWith is SamplePrincipal with opts (the sample BASE when
// opts.Unload is nil; for each of opts.Releases without an Unload, that
// release's SampleBase), and the sample envelopes only if envelopes.
func SamplePrincipalWith(fsys afero.Fs, opts PrincipalOptions, envelopes bool) (*System, error) {
	if opts.Unload == nil {
		base, _, _ := fixtures.Sample()
		opts.Unload = BaseUnload(base)
	}
	opts.Releases = slices.Clone(opts.Releases)
	for i, r := range opts.Releases {
		if r.Unload == nil {
			opts.Releases[i].Unload = BaseUnload(SampleBase(r.Release))
		}
	}
	s, err := InitPrincipal(fsys, opts)
	if err != nil {
		return nil, err
	}
	if err := s.CMS().Exec("MAINT", []string{"ENROLL ADMIN " + level.Admin + " VMPSFS:"}, io.Discard); err != nil {
		return nil, err
	}
	if envelopes {
		if err := s.PutEnvelopes(fixtures.SampleEnvelopes()...); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// WriteAdminFile writes a file on MAINTCSM's A-disk (level.AdminVaddr):
// envelopes, where SRVLVL SERVICE and LOCALMOD look for them, and MAINTCSM NAMES.
func (s *System) WriteAdminFile(fileID string, fill func(w io.Writer) error) error {
	disk, err := s.Minidisk(level.Admin, level.AdminVaddr)
	if err != nil {
		return err
	}
	id, err := cms.ParseFileID(fileID)
	if err != nil {
		return err
	}
	return cms.WriteFile(disk, id, fill)
}

// PutEnvelopes generates envelopes onto MAINTCSM's A-disk.
func (s *System) PutEnvelopes(envs ...fixtures.EnvelopeSpec) error {
	for _, e := range envs {
		if err := s.WriteAdminFile(e.FileID(), func(w io.Writer) error { return fixtures.WriteEnvelope(w, e) }); err != nil {
			return err
		}
	}
	return nil
}

// SampleBase is the BASE a sample principal carries for release: the
// sample's for 720, and for another release the BASE generated with the
// same seed and scale (its parts named and filled for that release).
func SampleBase(release string) fixtures.BaseSpec {
	if release == fixtures.SampleRelease {
		base, _, _ := fixtures.Sample()
		return base
	}
	return fixtures.Base(release, fixtures.SampleBaseSeed, fixtures.ScaleTiny)
}
