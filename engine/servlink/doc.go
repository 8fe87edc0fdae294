// Package servlink owns the one stream format that carries service content
// in csmsim: service envelopes (RSU, COR, LOCALMOD), the SERVLINK files of a
// level's package and the package manifest. It writes streams (Writer),
// reads them part by part with each part's size and SHA-256 checked as it
// is read (Reader), and validates a whole stream before anything is
// written (Validate), refusing with a reason code and the offset of the
// failing member. FORMAT.md describes the format; the format is csmsim's
// own.
package servlink
