package bank

// Lock order of the bank set and its matchers.
//
// A worker matches designs while bank changes arrive over NATS, so the live
// set has four locks. When more than one is held they are taken in this
// order, and never in reverse:
//
//  1. Set.applyMu (bank/set.go)       serialises Load and Apply: one change
//     at a time. Held across database reads; no other goroutine waits on it
//     while holding a lock below.
//  2. Set.mu (bank/set.go)            the entries, banks and allow-lists
//     maps. Readers (Entry, Allowed, Kind, Versions) hold it briefly. Apply
//     takes it after the database reads, and calls Matcher.AddPrepared and
//     Matcher.Remove while holding it (so 2 → 3).
//  3. Matcher.mu (bank/match)         the index, references and variants of
//     the positive bank. Find holds the read lock only to look up and copy
//     what it needs; verification runs without it.
//  4. the negative Matcher's mu       the negative bank (Matcher.negative).
//     The positive matcher normally reads its negative pointer under 3,
//     releases it and asks the negative matcher with no lock held
//     (AddPrepared); only when SetNegative ran meanwhile does it ask the new
//     negative matcher while holding 3 (3 → 4). A negative matcher has no
//     negative of its own, so 4 never waits on 3.
//
// Set.symbolBanks is a sync.Map, read by Matcher through Config.Protected
// while Matcher.mu may be held: it takes no lock of this list, which is why
// it is not a field under Set.mu.
//
// Other locks in the package are leaves: importProgress.mu (import.go)
// guards a progress counter and never calls out while held.
