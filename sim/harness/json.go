package harness

import (
	"encoding/json"
	"io"
)

// WriteJSON writes the report as indented JSON, fields in a fixed order.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteJSONAll writes one report as an object and several as an array.
func WriteJSONAll(w io.Writer, reports []*Report) error {
	if len(reports) == 1 {
		return reports[0].WriteJSON(w)
	}
	b, err := json.MarshalIndent(reports, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
