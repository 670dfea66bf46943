package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchDebounce is how long --watch waits after the last change event of
// the fixtures file before it asks for a reload: an editor's save or a
// script's write is many events, and one reload is enough. Reload then
// waits for the file to be stable as well (fixtures.LoadStable).
const watchDebounce = 100 * time.Millisecond

// watchFile sends on changed, at most once per burst of events (debounced
// by debounce), whenever the file at path is written, created, replaced or
// renamed into place, until ctx ends. It watches the file's directory, not
// the file: an atomic replace (write elsewhere, rename over it) gives the
// path a new file, which a watch on the old one would never see.
func watchFile(ctx context.Context, path string, debounce time.Duration, changed chan<- struct{}) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("--watch: %w", err)
	}
	target := filepath.Clean(path)
	if err := w.Add(filepath.Dir(target)); err != nil {
		w.Close()
		return fmt.Errorf("--watch %s: %w", filepath.Dir(target), err)
	}
	go func() {
		defer w.Close()
		timer := time.NewTimer(debounce)
		timer.Stop()
		defer timer.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if filepath.Clean(ev.Name) == target && ev.Has(fsnotify.Write|fsnotify.Create|fsnotify.Rename) {
					timer.Reset(debounce)
				}
			case _, ok := <-w.Errors:
				if !ok {
					return
				}
			case <-timer.C:
				select {
				case changed <- struct{}{}:
				default: // a reload is already pending
				}
			}
		}
	}()
	return nil
}
