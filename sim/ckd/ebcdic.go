package ckd

import "golang.org/x/text/encoding/charmap"

// Labels on z/VM volumes are in EBCDIC, code page 037.
const ebcdicSpace = 0x40

func toEBCDIC(s string) []byte {
	b, err := charmap.CodePage037.NewEncoder().Bytes([]byte(s))
	if err != nil { // only for characters 037 lacks; labels are checked first
		return []byte{ebcdicSpace}
	}
	return b
}

func fromEBCDIC(b []byte) string {
	s, _ := charmap.CodePage037.NewDecoder().Bytes(b)
	return string(s)
}
