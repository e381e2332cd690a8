package source

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// guardedStorage is an object store as a fetch writes to it: a pack the
// remote sends is written to a temporary file and refused if it holds an
// object larger than maxObject, before go-git indexes it. go-git's indexer
// inflates each object whole in memory, and Git compresses gigabytes of
// zeros into a few hundred KiB.
type guardedStorage struct {
	*filesystem.Storage
	tmpDir    string
	maxObject int64
}

// PackfileWriter returns where the fetched pack is written; closing it
// checks the pack and then stores it.
func (g guardedStorage) PackfileWriter() (io.WriteCloser, error) {
	f, err := os.CreateTemp(g.tmpDir, ".fetch-*.pack")
	if err != nil {
		return nil, err
	}
	return &guardedPack{File: f, store: g}, nil
}

// guardedPack is a fetched pack on its way into a guardedStorage.
type guardedPack struct {
	*os.File
	store guardedStorage
}

func (p *guardedPack) Close() error {
	defer os.Remove(p.Name())
	err := p.store.write(p.File)
	return errors.Join(err, p.File.Close())
}

// write checks the pack in f and then stores it.
func (g guardedStorage) write(f *os.File) error {
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil || size == 0 {
		return err // go-git reports an empty pack itself
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := checkPack(f, g.maxObject); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return packfile.WritePackfileToObjectStorage(g.Storage, f)
}

// checkPack reads the header of every object of the pack in r, inflating
// none into memory, and refuses one whose size is over max, naming a blob
// by its hash. A delta's size is the size of the object it makes, read from
// the start of its data.
func checkPack(r io.Reader, max int64) error {
	s := packfile.NewScanner(r)
	_, count, err := s.Header()
	if err != nil {
		return fmt.Errorf("read the fetched pack: %w", err)
	}
	for range count {
		h, err := s.NextObjectHeader()
		if err != nil {
			return fmt.Errorf("read the fetched pack: %w", err)
		}
		if err := checkObject(s, h, max); err != nil {
			return err
		}
	}
	return nil
}

// checkObject refuses the object h, whose header s just read, if it is
// larger than max.
func checkObject(s *packfile.Scanner, h *packfile.ObjectHeader, max int64) error {
	what, size := "an object", h.Length
	switch {
	case h.Type == plumbing.OFSDeltaObject || h.Type == plumbing.REFDeltaObject:
		if size <= max {
			var d deltaHeader
			if _, _, err := s.NextObject(&d); err != nil {
				return fmt.Errorf("read the fetched pack: %w", err)
			}
			size = d.targetSize()
		}
	case size > max:
		// Streamed through the hash, to name the object.
		hasher := plumbing.NewHasher(h.Type, h.Length)
		if _, _, err := s.NextObject(hasher); err != nil {
			return fmt.Errorf("read the fetched pack: %w", err)
		}
		what = fmt.Sprintf("%s %s", h.Type, hasher.Sum())
	}
	if size > max {
		return fmt.Errorf("%w: %s of %s is over the limit of %s for a checkout",
			ErrCheckoutTooLarge, what, formatBytes(size), formatBytes(max))
	}
	return nil
}

// deltaHeader keeps the start of a delta's data, which gives the sizes of
// its base and of the object it makes, and discards the rest.
type deltaHeader struct {
	buf [2 * binary.MaxVarintLen64]byte
	n   int
}

func (d *deltaHeader) Write(p []byte) (int, error) {
	d.n += copy(d.buf[d.n:], p)
	return len(p), nil
}

// targetSize decodes the size of the object the delta makes: the second of
// two varints, after the size of its base. A malformed header gives a size
// no limit allows.
func (d *deltaHeader) targetSize() int64 {
	b := d.buf[:d.n]
	var size uint64
	for range 2 {
		var n int
		if size, n = binary.Uvarint(b); n <= 0 {
			return math.MaxInt64
		}
		b = b[n:]
	}
	return int64(min(size, math.MaxInt64))
}
