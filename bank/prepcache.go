package bank

import (
	"encoding/gob"
	"os"
	"path/filepath"

	"github.com/muster-dev/muster/bank/match"
)

// prepCache is a gob file of prepared references by key (one per
// match.EncodingVersion), so only the first run rasterises and prepares
// icon sets. A missing or unreadable file is an empty cache.
type prepCache struct {
	file  string
	refs  map[string][]byte
	dirty bool
}

func openPrepCache(dir, name string) *prepCache {
	c := &prepCache{file: filepath.Join(dir, name+"-"+match.EncodingVersion+".gob"), refs: map[string][]byte{}}
	if f, err := os.Open(c.file); err == nil {
		_ = gob.NewDecoder(f).Decode(&c.refs)
		f.Close()
	}
	return c
}

// get returns the cached reference of key.
func (c *prepCache) get(key string) (*match.Prepared, bool) {
	b, ok := c.refs[key]
	if !ok {
		return nil, false
	}
	var p match.Prepared
	if p.UnmarshalBinary(b) != nil {
		return nil, false
	}
	return &p, true
}

// put keeps p under key for save.
func (c *prepCache) put(key string, p *match.Prepared) {
	c.refs[key], _ = p.MarshalBinary()
	c.dirty = true
}

// save writes the cache if put added to it (atomically, by rename); a
// cache that cannot be written only costs the next run time.
func (c *prepCache) save() {
	if !c.dirty {
		return
	}
	f, err := os.Create(c.file + ".tmp")
	if err != nil {
		return
	}
	err = gob.NewEncoder(f).Encode(c.refs)
	f.Close()
	if err == nil {
		_ = os.Rename(c.file+".tmp", c.file)
	}
}
