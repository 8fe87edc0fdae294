// Package extents stores a file written as a tar stream (a SERVLINK, an
// envelope) with each large member's content in a file of its own, so that
// LOAD can put a part in place by a hard link instead of writing its bytes
// again: a SEND then writes each byte once on the node.
//
// A split file is its skeleton, a sparse file of the stream's full size
// that holds every byte but the large members' contents (holes there),
// and those contents as extent files in the directory's .extents
// subdirectory. The skeleton's extended attribute user.csmsim.extents
// lists the extents and the name they share: the attribute lives and
// dies with the file, so a rename carries it and no crash separates them.
// Extent files are written once and never changed; a split file changed
// in place (an append, a resumed upload) is first made whole again.
//
// Fs is an afero.Fs over a host directory (sim/hostfs) through which a
// split file reads, renames and is removed as the stream it is. It splits
// only the files its caller names (cmsfs: its minidisks' files), and only
// on a host file system with extended attributes; elsewhere files are
// written as they come.
package extents

const (
	// Attr is the extended attribute that makes a file a split one.
	Attr = "user.csmsim.extents"
	// DirName is the directory beside split files that holds their
	// extents.
	DirName = ".extents"
	// MinExtent is the smallest member content kept as an extent: below
	// it a link saves too little to pay for a file.
	MinExtent = 64 << 10
	// MaxExtents bounds a file's extents, so that the index fits an
	// extended attribute; later members stay in the skeleton.
	MaxExtents = 160
)
