package world

import (
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/csmsim/csmsim/engine/table"
	"github.com/csmsim/csmsim/fixtures"
)

// NamesTable is nicknames (nickname -> systems or nicknames) as MAINTCSM
// NAMES, checked as SERVMGR checks it (no cycles), nicknames sorted so the
// same nicknames always give the same file.
func NamesTable(names map[string][]string) (*table.Table, error) {
	t, err := table.New(table.Names().Name, table.Names().KeyTag)
	if err != nil {
		return nil, err
	}
	for _, nick := range slices.Sorted(maps.Keys(names)) {
		if err := t.Add(table.NewEntry(table.Names().KeyTag, strings.ToUpper(nick), table.TagList, strings.ToUpper(strings.Join(names[nick], " ")))); err != nil {
			return nil, err
		}
	}
	return t, table.CheckNames(t)
}

// WriteNames writes nicknames as MAINTCSM NAMES on MAINTCSM's A-disk of a
// principal (NamesTable).
func (s *System) WriteNames(names map[string][]string) error {
	t, err := NamesTable(names)
	if err != nil {
		return err
	}
	return s.WriteAdminFile(table.Names().File.Name(), func(w io.Writer) error {
		_, err := t.WriteTo(w)
		return err
	})
}

// Envelope describes a generated RSU or COR envelope (fixtures.RSU, COR)
// against the sample BASE of its release (SampleBase).
type Envelope struct {
	Name      string // e.g. RSU0901; its file is RSU0901 SERVLINK
	Kind      string // RSU (also when empty) or COR, any case
	Component string // a COR's component, e.g. CP
	Release   string // the release it services; default DefaultRelease
	Parts     int    // parts replaced; default 3
	PartBytes int64  // mean part size (50%..150%); default the BASE's
	Seed      uint64
}

// Spec is the envelope's fixture, ready for System.PutEnvelopes.
func (e Envelope) Spec() fixtures.EnvelopeSpec {
	rel := e.Release
	if rel == "" {
		rel = DefaultRelease
	}
	base := SampleBase(rel)
	if e.PartBytes > 0 {
		base.Scale.PartBytes = e.PartBytes
	}
	parts := e.Parts
	if parts == 0 {
		parts = 3
	}
	name := strings.ToUpper(e.Name)
	if strings.EqualFold(e.Kind, "COR") {
		return fixtures.COR(rel, name, e.Seed, base, strings.ToUpper(e.Component), parts)
	}
	return fixtures.RSU(rel, name, e.Seed, base, parts)
}
