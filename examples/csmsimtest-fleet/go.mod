module example.com/csmfleet

go 1.26.0

require github.com/csmsim/csmsim v0.0.0

require (
	github.com/fclairamb/ftpserverlib v0.32.0 // indirect
	github.com/secsy/goftp v0.0.0-20200609142545-aa2de14babf4 // indirect
	github.com/spf13/afero v1.15.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.42.0 // indirect
)

// The simulator is this repository's own root module: the test below
// imports csmsimtest as any other module would, from outside.
replace github.com/csmsim/csmsim => ../..
