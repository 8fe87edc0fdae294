package table

import (
	"io"

	"github.com/csmsim/csmsim/engine/cms"
)

// Load reads a table file of a without a Store: inventory files that one
// command writes whole, not shared tables updated by generation.
func Load(a cms.FileArea, id cms.FileID, name, keyTag string) (*Table, error) {
	var t *Table
	err := cms.ReadFile(a, id, func(r io.Reader) error {
		var err error
		t, err = ParseAs(id.Name(), name, keyTag, r)
		return err
	})
	return t, err
}

// Save writes t as a fresh file id of a, replacing any: the counterpart of
// Load.
func Save(a cms.FileArea, id cms.FileID, t *Table) error {
	return cms.WriteFile(a, id, func(w io.Writer) error {
		_, err := t.WriteTo(w)
		return err
	})
}
