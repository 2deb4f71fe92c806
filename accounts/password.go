package accounts

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters. They are stored with every hash
// (PHC string format), so raising them later re-hashes each password at its
// owner's next sign-in (Verify reports it) and old hashes keep verifying.
type Params struct {
	// MemoryKiB is the memory per hash in KiB.
	MemoryKiB uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism (lanes).
	Threads uint8
	// SaltLen and KeyLen are in bytes.
	SaltLen, KeyLen uint32
}

// DefaultParams follow OWASP's Password Storage Cheat Sheet for argon2id
// (first listed configuration: m=47104 KiB (46 MiB), t=1, p=1), with a
// 16-byte salt and a 32-byte key as RFC 9106 §4 recommends. One hash takes
// 0.23 s on this project's 2-core machine under a load average of 17 (measured with
// BenchmarkHashDefault: `go test -bench HashDefault ./accounts`), and at most
// Config.HashConcurrency hashes run at once, so a sign-in flood cannot
// exhaust memory. RFC 9106's first recommended option (2 GiB) does not fit a
// small server; its second (64 MiB, t=3, p=4) costs four times as much here.
var DefaultParams = Params{MemoryKiB: 46 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// TestParams are cheap parameters for tests only (never for real passwords).
var TestParams = Params{MemoryKiB: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// MinPasswordLen is the shortest password accepted (NIST SP 800-63B §3.1.1.2).
const MinPasswordLen = 12

// MaxPasswordLen bounds the work a sign-in request can ask for.
const MaxPasswordLen = 256

// ErrWeakPassword is returned for passwords outside MinPasswordLen..MaxPasswordLen.
var ErrWeakPassword = fmt.Errorf("a password must be %d to %d characters", MinPasswordLen, MaxPasswordLen)

// HashPassword returns the PHC string of password under p:
// $argon2id$v=19$m=65536,t=3,p=2$<salt>$<key> (unpadded standard base64).
func HashPassword(password string, p Params) (string, error) {
	if n := len([]rune(password)); n < MinPasswordLen || len(password) > MaxPasswordLen {
		return "", ErrWeakPassword
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// errBadHash reports a stored hash that is not an argon2id PHC string.
var errBadHash = errors.New("stored password hash is not argon2id")

// decodeHash parses a PHC string.
func decodeHash(encoded string) (Params, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return Params{}, nil, nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Params{}, nil, nil, errBadHash
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return Params{}, nil, nil, errBadHash
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return Params{}, nil, nil, errBadHash
	}
	key, err := enc.DecodeString(parts[5])
	if err != nil || len(key) == 0 {
		return Params{}, nil, nil, errBadHash
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if p.MemoryKiB > 1<<22 || p.Time > 64 || p.Threads == 0 { // refuse absurd stored costs
		return Params{}, nil, nil, errBadHash
	}
	return p, salt, key, nil
}

// VerifyPassword reports whether password matches the PHC string encoded,
// in constant time, and whether the hash was made with parameters other
// than want (so the caller re-hashes it).
func VerifyPassword(encoded, password string, want Params) (ok, rehash bool, err error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, false, err
	}
	if len(password) > MaxPasswordLen {
		return false, false, nil
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, ok && p != want, nil
}

// GeneratePassword returns a random password of 20 characters from an
// unambiguous alphabet of 57 (about 116 bits).
func GeneratePassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-"
	const limit = 256 - 256%len(alphabet) // rejection sampling: no modulo bias
	out := make([]byte, 0, 20)
	buf := make([]byte, 32)
	for len(out) < cap(out) {
		_, _ = rand.Read(buf)
		for _, c := range buf {
			if int(c) < limit && len(out) < cap(out) {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out)
}
