// The DHCP lease index of a contract's audit log (Annex 1 8.1.1 asset attribution): which asset
// held which IP address when, so that an outbound request from an address can be attributed to
// the asset that held its lease at that moment. Rules and layout: docs/audit-format.md ("Asset
// attribution").
//
// One row per lease period (an address held by one holder without interruption), never one per
// DHCP record: a renewal by the same holder extends its row. A holder is a MAC address when the
// DHCP record names one (else a host name), with the host name it gave. A lease ends at the
// earliest of: its last grant plus the lease length, a grant of the address to another holder,
// or the holder's release. Grants and releases of one address are expected in time order (one
// DHCP server logs them so); one that arrives late is applied against the rows as they stand.
//
// Transactions: Grant, Release and the Drop* calls run inside the caller's transaction.
// Thread-safety: a LeaseIndex borrows its Connection (one thread at a time).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "store/store.h"

namespace isms::audit {

struct Lease {
  std::string ip;
  std::string host;  // the holder's host name ("" when the DHCP records named none)
  std::string mac;   // the holder's MAC address, lower case with colons ("" when none)
  Instant from{};    // the first grant
  Instant to{};      // exclusive: last grant + length, the next holder's grant, or the release
  std::uint64_t first_leaf = 0;  // the audit record of the first grant
  std::uint64_t last_leaf = 0;   // the audit record of the latest grant or of the release

  friend bool operator==(const Lease&, const Lease&) = default;
};

// "AA-BB-CC-DD-EE-FF" and "aa:bb:cc:dd:ee:ff" give "aa:bb:cc:dd:ee:ff"; anything that is not six
// hexadecimal pairs gives "".
std::string NormalizeMac(std::string_view text);

class LeaseIndex {
 public:
  // The table (same shape on both engines).
  static std::string SchemaSql(store::Engine engine);

  LeaseIndex(store::Connection& conn, std::int64_t contract_id)
      : conn_(conn), contract_id_(contract_id) {}

  // `ip` was granted to (host, mac) at `at` for `length` by the audit record at `leaf`. `mac` is
  // normalised (NormalizeMac) or "". Extends that holder's lease, or starts one, ending another
  // holder's lease of the address at `at`.
  Status Grant(const std::string& ip, const std::string& host, const std::string& mac, Instant at,
               std::chrono::milliseconds length, std::uint64_t leaf);
  // The holder (by MAC when given, else by host) released `ip` at `at`: its lease ends then.
  // Nothing happens when it held no lease of the address at that moment.
  Status Release(const std::string& ip, const std::string& host, const std::string& mac,
                 Instant at, std::uint64_t leaf);

  // The leases held by `holder` (a host name, or a MAC address in either notation) that overlap
  // [from, to), in time order.
  Result<std::vector<Lease>> HeldBy(const std::string& holder, std::optional<Instant> from,
                                    std::optional<Instant> to);
  // The leases of an address that overlap [from, to), in time order.
  Result<std::vector<Lease>> OfAddress(const std::string& ip, std::optional<Instant> from,
                                       std::optional<Instant> to);

  // Retention: drops the leases that ended before `t`.
  Status DropEndedBefore(Instant t);
  // Replaces every lease of the contract with `rows` (an erasure's rebuild from the records that
  // remain).
  Status ReplaceAll(std::span<const Lease> rows);

  // Every lease of the contract, by address (bytewise) then start: what `verify` compares with
  // a LeaseReplay of the log's DHCP records.
  Result<std::vector<Lease>> All();

 private:
  struct SqlRows;  // the row operations of Grant and Release (lease_index.cc)
  Result<std::optional<Lease>> Prev(const std::string& ip, Instant at);
  Status EachAfter(const std::string& ip, Instant at, const std::function<bool(Lease&&)>& fn);
  Result<std::vector<Lease>> Query(const std::string& where, const std::string& a,
                                   const std::string& b, std::optional<Instant> from,
                                   std::optional<Instant> to);
  Status Insert(const Lease& l);
  Status Delete(const Lease& l);
  Status SetEnd(const Lease& l, Instant to, std::uint64_t last_leaf);

  store::Connection& conn_;
  std::int64_t contract_id_;
};

// The lease index rebuilt in memory by the same rules as LeaseIndex (one implementation of the
// rules serves both), from the DHCP records of a log: `isms audit verify` replays the log's
// records into one and compares its rows with the stored ones, so a changed, added or deleted
// lease row is found although the table is not itself hashed. Not thread-safe (a value).
class LeaseReplay {
 public:
  // A lease taken as stored (one begun by a record that retention has purged).
  Status Seed(const Lease& l);
  Status Grant(const std::string& ip, const std::string& host, const std::string& mac,
               Instant at, std::chrono::milliseconds length, std::uint64_t leaf);
  Status Release(const std::string& ip, const std::string& host, const std::string& mac,
                 Instant at, std::uint64_t leaf);
  void DropEndedBefore(Instant t);
  // By address (bytewise) then start, as LeaseIndex::All.
  std::vector<Lease> Rows() const;

 private:
  struct MemoryRows;  // the row operations of Grant and Release (lease_index.cc)
  std::map<std::string, std::map<std::int64_t, Lease>> rows_;
};

}  // namespace isms::audit
