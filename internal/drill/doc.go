// Package drill holds tests of the way this repository is changed, not of
// its code: on a temporary copy of the repository they change openapi.yaml as
// a maintainer would, regenerate, build and run the stub, and run the
// breaking-change gate (make check-breaking). See CONTRIBUTING.md.
//
// The package has no code of its own; its tests need the go command, git and
// make, and skip under -short.
package drill
