// Package enginespec holds the engine's specifications run against the
// emulated world: CSMAGENT on managed systems built by sim/world, and
// SERVMGR's dispatcher on an in-memory principal. They live here, not in
// engine/, because engine never imports sim, not even in tests.
package enginespec
