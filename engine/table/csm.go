package table

import (
	"io"

	"github.com/csmsim/csmsim/engine/cms"
)

// Kind is one of the CSM tables: its file, table name and key tag, and
// what must hold across the whole table before it is written.
type Kind struct {
	File   cms.FileID
	Name   string
	KeyTag string
	check  func(*Table) error
	// parse reads the file; nil means the tag table format (ParseAs).
	parse parseFunc
}

// The CSM tables, kept in MAINTCSM's file space.

// SysStat is the System Status Table: one entry per managed system.
func SysStat() Kind {
	return Kind{File: cms.MustParseFileID("CSM SYSSTAT"), Name: "SYSSTAT", KeyTag: "SYSTEM"}
}

// SvcStat is the Service Level Table: one entry per service level.
func SvcStat() Kind {
	return Kind{File: cms.MustParseFileID("CSM SVCSTAT"), Name: "SVCSTAT", KeyTag: "SRVLVL"}
}

// Names holds nicknames for groups of systems and nicknames:
// :NICK.GROUP1 :LIST.VM01 VM02 GROUP2. It is read as a CMS NAMES file
// (ParseNames), as a system programmer keeps one, and written as a table.
func Names() Kind {
	return Kind{File: cms.MustParseFileID(namesFile), Name: "NAMES", KeyTag: "NICK", check: CheckNames,
		parse: func(fileName string, r io.Reader) (*Table, error) { return ParseNames(fileName, r) }}
}

// namesFile is the NAMES file, by name so messages need not reach for Names.
const namesFile = "MAINTCSM NAMES"

// TagList is the NAMES tag that lists a nickname's members, blank-separated.
const TagList = "LIST"

func (k Kind) parser() parseFunc {
	if k.parse != nil {
		return k.parse
	}
	return tableParser(k.Name, k.KeyTag)
}

// Read reads k's table from s; the header must name k's table.
func (k Kind) Read(s *Store) (*Table, error) { return s.read(k.File, k.parser()) }

// Recover is Store.Recover for k's table, read as k reads it.
func (k Kind) Recover(s *Store) (Recovered, error) { return s.recover(k.File, k.parser()) }

// Create writes k's table, empty at generation 1.
func (k Kind) Create(s *Store, entries ...Entry) error {
	return s.Create(k.File, k.Name, k.KeyTag, entries...)
}

// Update is Store.Update for k's table: the write of a read-modify-write,
// on condition that the table is still at read's generation. The result
// must also pass k's whole-table check (for NAMES: no nickname cycles) or
// nothing is written.
func (k Kind) Update(s *Store, read *Table, fn func(*Table) error) (*Table, error) {
	return s.update(k.File, k.parser(), read, k.checked(fn))
}

// Apply is Store.Apply for k's table, with k's whole-table check.
func (k Kind) Apply(s *Store, fn func(*Table) error) (*Table, error) {
	return s.apply(k.File, k.parser(), k.checked(fn))
}

func (k Kind) checked(fn func(*Table) error) func(*Table) error {
	return func(t *Table) error {
		if err := fn(t); err != nil {
			return err
		}
		if k.check != nil {
			return k.check(t)
		}
		return nil
	}
}
