package level

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"

	"github.com/csmsim/csmsim/engine/cms"
	"github.com/csmsim/csmsim/engine/servlink"
	"github.com/csmsim/csmsim/engine/table"
)

// writeLevelTop writes the files of a level's top directory: SERVLVL
// DESCRIPT, the service BITMAP and VVTLCL summary, CSMPKG BASELIST (the
// parts of basedOn; for BASE its own), and the level's unique VMSESE
// PROFILE and CSM PPF override.
func (e *Env) writeLevelTop(p cms.FilePool, vrm, level, basedOn, desc string, comps []string) error {
	top, err := p.Dir(LevelDir(vrm, level))
	if err != nil {
		return err
	}
	if err := cms.WriteFile(top, DescriptID, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "SERVICE LEVEL %s\nRELEASE %s\nBASED ON %s\nCREATED %s BY %s\nDESCRIPTION %s\n",
			level, vrm, orDash(basedOn), e.now(), e.User, desc)
		return err
	}); err != nil {
		return err
	}
	if err := e.writeBitmap(p, vrm, level, comps); err != nil {
		return err
	}
	if basedOn == "" {
		vv, err := table.New("VVTLCL", "LOCALMOD")
		if err != nil {
			return err
		}
		if err := table.Save(top, VVTLCLID, vv); err != nil {
			return err
		}
	}
	from := basedOn
	if from == "" {
		from = level
	}
	bl, err := baselist(p, vrm, from, comps)
	if err != nil {
		return err
	}
	if err := table.Save(top, BaselistID, bl); err != nil {
		return err
	}
	if err := cms.WriteFile(top, ProfileID, func(w io.Writer) error { return profile(w, vrm, level) }); err != nil {
		return err
	}
	return cms.WriteFile(top, PPFID, func(w io.Writer) error { return ppf(w, vrm, level, comps) })
}

// writeBitmap records, per component, how many parts the level has and a
// digest of its PARTCAT: a quick summary to tell two levels apart.
func (e *Env) writeBitmap(p cms.FilePool, vrm, level string, comps []string) error {
	t, err := table.New("BITMAP", "COMP")
	if err != nil {
		return err
	}
	for _, c := range comps {
		cat, err := readCatalog(p, vrm, level, c)
		if err != nil {
			return err
		}
		h := sha256.New()
		if _, err := cat.WriteTo(h); err != nil {
			return err
		}
		if err := t.Add(table.NewEntry("COMP", c, "PARTS", strconv.Itoa(cat.Len()), "DIGEST", hex.EncodeToString(h.Sum(nil)))); err != nil {
			return err
		}
	}
	top, err := p.Dir(LevelDir(vrm, level))
	if err != nil {
		return err
	}
	return table.Save(top, BitmapID, t)
}

// profile is the level's VMSESE PROFILE: the CSM PPF variables that point
// VMSES/E at this level's directories.
func profile(w io.Writer, vrm, level string) error {
	_, err := fmt.Fprintf(w, ":PPFVAR. CSMPOOL %s\n:PPFVAR. CSMSPACE %s\n:PPFVAR. CSMLEVEL %s\n:PPFVAR. CSMTESTBLD %s\n",
		Pool, Space(vrm), level, LevelDir(vrm, level).String()+"."+TestBuild)
	return err
}

// ppf is the CSM PPF override: each component's service directories
// redirected into this level.
func ppf(w io.Writer, vrm, level string, comps []string) error {
	if _, err := fmt.Fprintf(w, ":OVERLST. CSM\n* CSM PPF override for service level %s of release %s\n", level, vrm); err != nil {
		return err
	}
	for _, c := range comps {
		for _, a := range servlink.Areas() {
			if _, err := fmt.Fprintf(w, ":DCL. %s %s DIR %s\n", c, a, AreaDir(vrm, level, c, a)); err != nil {
				return err
			}
		}
	}
	_, err := fmt.Fprintln(w, ":EDCL.")
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
