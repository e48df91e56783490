// Stable, seedable hashing used to derive identifiers.
//
// Unlike absl::Hash (whose seed changes from process to process), these
// functions return the same value in every process and on every run, which is
// what deterministic ID derivation needs: a re-executed task must recreate the
// same ObjectIDs in whichever worker runs it. Not cryptographic; the inputs are
// our own IDs and counters, never adversarial.
#pragma once

#include <cstdint>
#include <string_view>

namespace photon {

struct Hash128Value {
  uint64_t low = 0;
  uint64_t high = 0;
};

// Hashes `data` to 128 bits. Thread-safe, never blocks, never fails.
Hash128Value StableHash128(std::string_view data, uint64_t seed = 0);

// Hashes `data` to 64 bits. Thread-safe, never blocks, never fails.
uint64_t StableHash64(std::string_view data, uint64_t seed = 0);

}  // namespace photon
