package table

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/csmsim/csmsim/engine/cms"
)

// Store reads and updates tables kept as files in one FileArea.
type Store struct {
	area cms.FileArea
	lk   Locker
}

// NewStore keeps tables in area; lk serializes updates of each file and
// must be shared by everyone who updates the same files.
func NewStore(area cms.FileArea, lk Locker) *Store { return &Store{area: area, lk: lk} }

// Resource is the name a Store locks to update file id in the area named
// areaName (FileArea.String()). The file mode is left out: it does not
// change which file it is.
func Resource(areaName string, id cms.FileID) string { return areaName + " " + id.Name() }

// Read reads table file id; every entry must start with keyTag ("" to take
// it from the first entry). A missing file is ErrNotFound.
func (s *Store) Read(id cms.FileID, keyTag string) (*Table, error) {
	return s.read(id, tableParser("", keyTag))
}

// parseFunc reads a table file; fileName names it in messages.
type parseFunc func(fileName string, r io.Reader) (*Table, error)

// tableParser reads the tag table format (ParseAs).
func tableParser(name, keyTag string) parseFunc {
	return func(fileName string, r io.Reader) (*Table, error) { return ParseAs(fileName, name, keyTag, r) }
}

func (s *Store) read(id cms.FileID, parse parseFunc) (*Table, error) {
	r, err := s.area.Open(id)
	if errors.Is(err, cms.ErrNotFound) {
		return nil, &Error{Table: id.Name(), Code: ReasonNotFound, Err: fmt.Errorf("%w: %w", ErrNotFound, err),
			Msg: fmt.Sprintf("table %s does not exist in %s", id.Name(), s.area)}
	} else if err != nil {
		return nil, s.ioError(id, "opening", err)
	}
	defer r.Close()
	return parse(id.Name(), r)
}

// Create writes a new table at generation 1 holding entries (none for an
// empty one), in one write; it is refused if the file exists.
func (s *Store) Create(id cms.FileID, name, keyTag string, entries ...Entry) error {
	t, err := New(name, keyTag)
	if err != nil {
		return err
	}
	t.File = id.Name()
	for _, e := range entries {
		if err := t.Add(e); err != nil {
			return err
		}
	}
	unlock, err := s.lock(id)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.area.Stat(id); err == nil {
		return &Error{Table: id.Name(), Code: ReasonExists, Err: ErrExists,
			Msg: fmt.Sprintf("table %s already exists in %s; update it instead", id.Name(), s.area)}
	} else if !errors.Is(err, cms.ErrNotFound) {
		return s.ioError(id, "checking", err)
	}
	return s.write(id, t)
}

// Update is the write of a read-modify-write: it changes table file id
// through fn under the file's lock, on condition that the table is still at
// the generation of read, the table as the caller read it (IWMDINST's COND:
// a change made by someone else in the window between the read and this
// write is never overwritten). It fails with a *CondError
// (ReasonGenerationMoved) when the table moved on, and returns the table as
// written, at its new generation, which a later update of the same command
// names as its read. fn works on a copy of the table as it is; if fn fails,
// or anything else does, the file is left exactly as it was. fn's own error
// is returned unchanged.
func (s *Store) Update(id cms.FileID, keyTag string, read *Table, fn func(*Table) error) (*Table, error) {
	return s.update(id, tableParser("", keyTag), read, fn)
}

// Apply is a read-modify-write whose change does not depend on what else
// the table holds (recording what a managed system did, a roll-out's
// record): it reads the table and updates it on condition of that read.
// When another update came in between, that condition refuses the write
// and Apply reads again and applies fn to what it reads, so neither update
// is lost; after maxApply refusals in a row it gives up with the last
// *CondError. fn must decide from the table it is given, never from an
// earlier read.
func (s *Store) Apply(id cms.FileID, keyTag string, fn func(*Table) error) (*Table, error) {
	return s.apply(id, tableParser("", keyTag), fn)
}

// maxApply bounds Apply's attempts. Each refusal means another update was
// written meanwhile, so only a table written without pause by others
// exhausts it: a roll-out of 54 systems writes its tables a few times per
// system.
const maxApply = 256

func (s *Store) apply(id cms.FileID, parse parseFunc, fn func(*Table) error) (*Table, error) {
	var err error
	for range maxApply {
		var read, t *Table
		if read, err = s.read(id, parse); err != nil {
			return nil, err
		}
		if t, err = s.update(id, parse, read, fn); !errors.Is(err, ErrGenerationMoved) {
			return t, err
		}
	}
	return nil, err
}

func (s *Store) update(id cms.FileID, parse parseFunc, read *Table, fn func(*Table) error) (*Table, error) {
	if read == nil {
		// Every update names what it read: a blind write would be the lost
		// update the condition is there to prevent.
		return nil, &Error{Table: id.Name(), Code: ReasonInvalid, Err: ErrInvalid,
			Msg: fmt.Sprintf("table %s in %s: an update must name the generation it read", id.Name(), s.area)}
	}
	unlock, err := s.lock(id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	t, err := s.read(id, parse)
	if err != nil {
		return nil, err
	}
	if read.Gen != t.Gen {
		return nil, &CondError{Table: id.Name(), Want: read.Gen, Have: t.Gen}
	}
	work := t.Clone()
	if err := fn(work); err != nil {
		return nil, err
	}
	// The header is the Store's business, whatever fn did to it.
	work.File, work.Name, work.Gen = t.File, t.Name, t.Gen+1
	if t.KeyTag != "" {
		work.KeyTag = t.KeyTag
	}
	// The generation read is kept beside the table first, so a table torn
	// by a crash (or a disk) can be recovered: the two files are never
	// written at once.
	if err := s.write(PreviousID(id), t); err != nil {
		return nil, err
	}
	if err := s.write(id, work); err != nil {
		return nil, err
	}
	return work.Clone(), nil
}

// PreviousID is the file where a Store keeps a table's previous
// generation: the table's file name with a $ in front, cut to eight
// characters (CSM SVCSTAT: $CSM SVCSTAT; MAINTCSM NAMES: $MAINTCS NAMES).
func PreviousID(id cms.FileID) cms.FileID {
	fn := "$" + id.FN()
	return cms.MustParseFileID(fn[:min(len(fn), 8)] + " " + id.FT())
}

// IsPrevious reports whether id names a previous generation kept by a
// Store ($ in front of the file name; no table of CSM starts so).
func IsPrevious(id cms.FileID) bool { return strings.HasPrefix(id.FN(), "$") }

// Recovered is what Recover did.
type Recovered struct {
	From    uint64 // the generation restored
	Torn    uint64 // the torn file's generation, 0 if its header was unreadable
	Gen     uint64 // the generation the table has now
	Entries int
}

// Recover restores a table that does not parse (cut short by a crash or
// a failing disk) from the previous generation kept beside it. The change
// the torn generation made is lost: the command that made it must be
// entered again. It refuses a table that parses (ReasonIntact): there is
// nothing to recover. The restored table gets a generation above both
// files', so no conditional update prepared against either succeeds.
func (s *Store) Recover(id cms.FileID, name, keyTag string) (Recovered, error) {
	return s.recover(id, tableParser(name, keyTag))
}

func (s *Store) recover(id cms.FileID, parse parseFunc) (Recovered, error) {
	var r Recovered
	unlock, err := s.lock(id)
	if err != nil {
		return r, err
	}
	defer unlock()
	cur, err := s.read(id, parse)
	if err == nil {
		return r, &Error{Table: id.Name(), Code: ReasonIntact, Err: ErrIntact,
			Msg: fmt.Sprintf("table %s in %s is intact at generation %d; nothing to recover", id.Name(), s.area, cur.Gen)}
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		return r, err
	}
	prevID := PreviousID(id)
	prev, err := s.read(prevID, parse)
	if err != nil {
		return r, &Error{Table: id.Name(), Code: ReasonNoPrevious, Err: fmt.Errorf("%w: %w", ErrNoPrevious, err),
			Msg: fmt.Sprintf("table %s in %s is torn (%v) and its previous generation %s cannot be used: %v; restore both from a backup",
				id.Name(), s.area, pe, prevID.Name(), err)}
	}
	r.From, r.Torn, r.Entries = prev.Gen, tornGen(s.area, id), prev.Len()
	restored := prev.Clone()
	restored.File, restored.Gen = id.Name(), max(prev.Gen+1, r.Torn)+1 // the torn generation may have been read whole
	if err := s.write(id, restored); err != nil {
		return r, err
	}
	r.Gen = restored.Gen
	return r, nil
}

// tornGen is the generation a torn table's header names, 0 if the header
// itself is unreadable.
func tornGen(a cms.FileArea, id cms.FileID) uint64 {
	var gen uint64
	_ = cms.ReadFile(a, id, func(r io.Reader) error {
		line, _ := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
		p := parser{entries: -1, t: &Table{}}
		if p.header(strings.TrimSuffix(line, "\n")) == nil {
			gen = p.t.Gen
		}
		return nil
	})
	return gen
}

func (s *Store) lock(id cms.FileID) (func(), error) {
	unlock, err := s.lk.Lock(Resource(s.area.String(), id))
	if err != nil {
		return nil, &Error{Table: id.Name(), Code: ReasonLockFailed, Err: fmt.Errorf("%w: %w", ErrLockFailed, err),
			Msg: fmt.Sprintf("table %s in %s: cannot lock it: %v", id.Name(), s.area, err)}
	}
	return unlock, nil
}

// write renders t in full before creating the file, then commits it with
// one rename (FileWriter.Close), so a failure leaves the old file intact.
func (s *Store) write(id cms.FileID, t *Table) error {
	b, err := t.bytes()
	if err != nil {
		return err
	}
	w, err := s.area.Create(id)
	if err != nil {
		return s.ioError(id, "writing", err)
	}
	if _, err := w.Write(b); err != nil {
		_ = w.Abort()
		return s.ioError(id, "writing", err)
	}
	if err := w.Close(); err != nil {
		return s.ioError(id, "writing", err)
	}
	return nil
}

func (s *Store) ioError(id cms.FileID, doing string, err error) error {
	return &Error{Table: id.Name(), Code: ReasonIOFailed, Err: fmt.Errorf("%w: %w", ErrIO, err),
		Msg: fmt.Sprintf("%s table %s in %s: %v; the table is unchanged", doing, id.Name(), s.area, err)}
}
