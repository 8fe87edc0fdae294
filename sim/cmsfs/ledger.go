package cmsfs

import (
	"fmt"

	"github.com/csmsim/csmsim/engine/cms"
)

// ledger counts the 4K blocks held against one limit: a file space quota, a
// file pool's capacity or a minidisk's file area. used includes blocks
// reserved by writes still in progress.
type ledger struct {
	label       string // "file space CSM720", "file pool VMPSFS", "minidisk MAINT 0190"
	limit, used int64
	full        error  // cms.ErrQuotaExceeded or cms.ErrDiskFull
	hint        string // what the user can do about it
}

// charge adds n blocks (negative to release) to every ledger, refusing any
// growth past a limit. what says what needs them, object names the area.
// The World's mu must be held.
func charge(ls []*ledger, object, what string, n int64) error {
	if n > 0 {
		for _, l := range ls {
			if l.used+n > l.limit {
				return &cms.Error{Object: object, Err: l.full, Detail: fmt.Sprintf(
					"%s needs %s more; %s has %d of %d free; %s",
					what, blocks(n), l.label, max(l.limit-l.used, 0), l.limit, l.hint)}
			}
		}
	}
	for _, l := range ls {
		l.used += n
	}
	return nil
}

func blocks(n int64) string {
	if n == 1 {
		return "1 block"
	}
	return fmt.Sprintf("%d blocks", n)
}
