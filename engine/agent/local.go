package agent

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/inventory"
	"github.com/csmsim/csmsim/engine/msg"
	"github.com/csmsim/csmsim/engine/servlink"
	"github.com/csmsim/csmsim/engine/table"
)

// LocalService is emergency SERVICE on the managed system itself, after
// SERVMGR MANAGED OFF: it applies the parts of comp in the envelope
// <envelope> SERVLINK on MAINTvrm's A-disk to the component's areas and
// PARTCAT. It is refused while the component is :CSM_MANAGED YES. The
// system then drifts from its level: VM SYSSUF keeps the level, and
// QUERY shows the changed parts. A changed nucleus part is not built into
// the nucleus on the recomp cylinders (a warning says so).
//
// Everything is validated first (the whole envelope, in one pass, with
// the reason code and offset of the first failure); an I/O error while
// the parts are written is not rolled back.
func LocalService(env *Env, comp, envelope string) (msg.Result, error) {
	var res msg.Result
	unlock, err := env.lock()
	if err != nil {
		return res, err
	}
	defer unlock()
	comp = strings.ToUpper(comp)
	s, err := env.readSysuf()
	if err != nil {
		return res, err
	}
	if _, ok := s.entry(comp); !ok || comp == SystemKey {
		return res, Refuse(msg.CSM3104E, comp, env.Sys.Name())
	}
	if s.tag(comp, TagManaged) == "YES" {
		return res, Refuse(msg.CSM2912E, comp)
	}
	disk, err := env.Sys.Minidisk(env.maint(), LocalDiskVaddr)
	if err != nil {
		return res, err
	}
	envID, err := cms.NewFileID(envelope, "SERVLINK", "")
	if err != nil {
		return res, Refuse(msg.CSM3150E, envelope, disk.String())
	}
	if _, err := disk.Stat(envID); errors.Is(err, cms.ErrNotFound) {
		return res, Refuse(msg.CSM3150E, envID.FN(), disk.String())
	} else if err != nil {
		return res, err
	}
	var man servlink.Manifest
	if err := cms.ReadFile(disk, envID, func(r io.Reader) error {
		man, err = servlink.Validate(r)
		return err
	}); err != nil {
		var se *servlink.Error
		if errors.As(err, &se) {
			return res, Refuse(msg.CSM3151E, envID.FN(), se.Reason.String(), se.Offset, se.Error())
		}
		return res, err
	}
	switch {
	case !man.Kind.IsEnvelope():
		return res, Refuse(msg.CSM3151E, envID.FN(), None, 0, fmt.Sprintf("it is a %s stream; local SERVICE needs an RSU, COR or LOCALMOD envelope", man.Kind))
	case man.Release != env.Release:
		return res, Refuse(msg.CSM3151E, envID.FN(), None, 0, fmt.Sprintf("it is service for release %s; this is release %s", man.Release, env.Release))
	case !slices.Contains(man.Components, comp):
		return res, Refuse(msg.CSM3152E, comp, envID.FN())
	}
	p, err := env.pool()
	if err != nil {
		return res, err
	}
	cat, err := env.readCatalog(p, comp)
	if err != nil {
		return res, err
	}
	var parts []servlink.Part
	for _, part := range man.Parts {
		if part.Component == comp {
			parts = append(parts, part)
		}
	}
	if err := env.checkRoom(p, map[string]*table.Table{comp: cat}, parts, "envelope "+envID.FN()); err != nil {
		return res, err
	}

	var written []servlink.Part
	if err := cms.ReadFile(disk, envID, func(r io.Reader) error {
		written, err = env.writeParts(p, r, false, func(part servlink.Part) bool { return part.Component == comp })
		return err
	}); err != nil {
		return res, err
	}
	nucleus := false
	for _, part := range written {
		nucleus = nucleus || inventory.IsNucleus(part)
		if err := inventory.Put(cat, part, ""); err != nil {
			return res, err
		}
		// Marked, so that a LOAD knows which parts of it it replaces.
		if err := cat.Modify(inventory.Key(part.Area, part.File), func(x *table.Entry) { x.Set(TagLocal, envID.FN()) }); err != nil {
			return res, err
		}
	}
	if err := env.writeCatalog(p, comp, cat); err != nil {
		return res, err
	}
	if err := s.update(func(c string, x *table.Entry) {
		if c == comp {
			x.Set(TagLocal, envID.FN())
		}
	}, nil); err != nil {
		return res, err
	}
	res.Addf(msg.CSM3153I, envID.FN(), comp, len(written), env.Sys.Name(), orNone(s.tag(comp, TagLevel)))
	if nucleus {
		res.Addf(msg.CSM3154W, comp)
	}
	return res, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
