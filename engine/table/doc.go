// Package table reads and maintains the CSM tables: CMS files of VMSES/E
// tag lines (the format VMFSIM maintains), one entry per line.
//
//	:TABLE.SYSSTAT :GEN.17
//	:SYSTEM.VM01 :RELEASE.720 :HOST.127.0.0.1 :PORT.4535 :STATE.TEST
//
// The first line is the header (table name and generation), csmsim's own
// (docs/fidelity.md): the generation is what a conditional update names. Every other
// line is an entry whose first tag is the table's key tag. A tag is :NAME.
// at the start of a line or after a blank; NAME is letters, digits and
// _ $ # @ -, case-insensitive and kept upper case. A value runs to the next
// tag or the end of the line and is trimmed of blanks. Lines starting with
// '*' are comments and blank lines are ignored; neither survives a rewrite.
//
// Parsing is strict and all-or-nothing: any fault is a *ParseError with the
// line and column, and no table. Changes go through a Store, which locks the
// file, checks the generation a conditional (COND) update was prepared
// against, and replaces the file atomically, as IWMDINST installs a service
// definition: everything is checked first, and on any failure nothing is
// written.
package table
