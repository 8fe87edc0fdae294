// Package servmgr is the SERVMGR command of the CSM principal system: its
// grammar (Parse, the Command types and their forms), its dispatcher (Run,
// which returns the command's Outcome: the lines the user sees, the RC and,
// for SEND, PUT2PROD and SERVCHECK, each system's outcome and the
// roll-out's) and the $CSMCMD $MSGLOG records every command leaves
// (msglog.go). The message catalogue and return codes are in engine/msg,
// which every engine package uses.
//
// The grammar follows CMS: blank-separated tokens, case-insensitive, and an
// optional options part after "(" (the closing ")" is optional). "(" and ")"
// are tokens of their own even when written against a word, as in
// "(stable" or "norequire)". Newlines, tabs and other ASCII white space count
// as blanks, so a command broken over several lines (as the CSM overview
// prints them) parses as written. A leading word SERVMGR is accepted and
// dropped. Names are folded to upper case; only the free text after DESC is
// kept as typed.
//
// Parse checks syntax and lexical rules only (operand counts, keywords, name
// characters and lengths, port range); whether a release, level or system
// exists is the business of the code that runs the command.
package servmgr
