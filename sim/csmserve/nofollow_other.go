//go:build !unix

package csmserve

// oNoFollow: elsewhere links are refused by Lstat alone.
const oNoFollow = 0

func isLoop(error) bool { return false }
