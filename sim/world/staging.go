package world

import (
	"github.com/spf13/afero"

	"github.com/csmsim/csmsim/engine/agent"
)

// StagingFs is CSMSERVE's FTP root: the files of its 0191 disk.
func (s *System) StagingFs() (afero.Fs, error) {
	m, err := s.cms.Minidisk(agent.StagingOwner, agent.StagingVaddr)
	if err != nil {
		return nil, err
	}
	return m.RawFs(), nil
}
