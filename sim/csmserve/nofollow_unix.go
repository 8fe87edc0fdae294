//go:build unix

package csmserve

import (
	"errors"
	"syscall"
)

// oNoFollow makes opening a staging file fail on a link (Unix).
const oNoFollow = syscall.O_NOFOLLOW

func isLoop(err error) bool { return errors.Is(err, syscall.ELOOP) }
