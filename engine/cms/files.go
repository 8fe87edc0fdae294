package cms

import (
	"errors"
	"fmt"
	"io"
)

// WriteFile creates id in a through fill. On any error the file is left as
// it was: a FileWriter commits only on Close.
func WriteFile(a FileArea, id FileID, fill func(w io.Writer) error) error {
	w, err := a.Create(id)
	if err != nil {
		return err
	}
	if err := fill(w); err != nil {
		_ = w.Abort()
		return fmt.Errorf("writing %s in %s: %w", id.Name(), a, err)
	}
	return w.Close()
}

// ReadFile streams id of a into use.
func ReadFile(a FileArea, id FileID, use func(r io.Reader) error) error {
	r, err := a.Open(id)
	if err != nil {
		return err
	}
	defer r.Close()
	return use(r)
}

// AppendFile writes id anew as its old content followed by what fill
// writes (a missing file starts empty). The replacement is atomic, so a
// reader sees the old file or the new one whole; callers serialize
// appenders of one file (a table.Locker) so none is lost.
func AppendFile(a FileArea, id FileID, fill func(w io.Writer) error) error {
	return WriteFile(a, id, func(w io.Writer) error {
		err := ReadFile(a, id, func(r io.Reader) error {
			_, err := io.Copy(w, r)
			return err
		})
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return fill(w)
	})
}
