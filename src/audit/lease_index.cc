#include "audit/lease_index.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <set>

namespace isms::audit {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE audit_leases (
  contract_id  BIGINT NOT NULL,
  ip           %BLOB% NOT NULL,
  start_ms     BIGINT NOT NULL,
  end_ms       BIGINT NOT NULL,
  host         %BLOB% NOT NULL,
  mac          TEXT NOT NULL,
  first_leaf   BIGINT NOT NULL,
  last_leaf    BIGINT NOT NULL,
  PRIMARY KEY (contract_id, ip, start_ms)
);
CREATE INDEX audit_leases_by_host ON audit_leases (contract_id, host, start_ms);
CREATE INDEX audit_leases_by_mac ON audit_leases (contract_id, mac, start_ms);
)sql";

constexpr const char* kColumns = "ip, start_ms, end_ms, host, mac, first_leaf, last_leaf";

std::int64_t Ms(Instant t) {
  return t.time_since_epoch().count();
}
Instant FromMs(std::int64_t ms) {
  return Instant(std::chrono::milliseconds(ms));
}

Lease Row(const store::Statement& st) {
  Lease l;
  l.ip = st.ColumnBlob(0);
  l.from = FromMs(st.ColumnInt(1));
  l.to = FromMs(st.ColumnInt(2));
  l.host = st.ColumnBlob(3);
  l.mac = st.ColumnText(4);
  l.first_leaf = static_cast<std::uint64_t>(st.ColumnInt(5));
  l.last_leaf = static_cast<std::uint64_t>(st.ColumnInt(6));
  return l;
}

// Every row a SELECT of kColumns gives.
Result<std::vector<Lease>> AllRows(store::Statement& st) {
  std::vector<Lease> out;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return out;
    out.push_back(Row(st));
  }
}

// Whether a grant to (host, mac) continues lease `l`: the same MAC (or, without MACs, the same
// host), and no other host name.
bool SameHolder(const Lease& l, const std::string& host, const std::string& mac) {
  if (!l.mac.empty() || !mac.empty()) {
    if (l.mac != mac) return false;
  } else if (l.host != host) {
    return false;
  }
  return host.empty() || l.host == host;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string NormalizeMac(std::string_view text) {
  if (text.size() != 17) return "";
  std::string out;
  for (std::size_t i = 0; i < 17; ++i) {
    const char c = text[i];
    if (i % 3 == 2) {
      if (c != ':' && c != '-') return "";
      out.push_back(':');
    } else {
      if (HexDigit(c) < 0) return "";
      out.push_back(static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c));
    }
  }
  return out;
}

std::string LeaseIndex::SchemaSql(store::Engine engine) {
  std::string s(kSchema);
  const std::string blob = engine == store::Engine::kPostgres ? "BYTEA" : "BLOB";
  for (std::size_t p; (p = s.find("%BLOB%")) != std::string::npos;) s.replace(p, 6, blob);
  return s;
}

Result<std::vector<Lease>> LeaseIndex::Query(const std::string& where, const std::string& a,
                                             const std::string& b, std::optional<Instant> from,
                                             std::optional<Instant> to) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare(std::string("SELECT ") + kColumns +
                                               " FROM audit_leases WHERE contract_id = $1 AND " +
                                               where +
                                               " AND end_ms > $4 AND start_ms < $5 ORDER BY "
                                               "start_ms, ip"));
  st->BindInt(1, contract_id_);
  st->BindBlob(2, a);
  st->BindText(3, b);
  st->BindInt(4, from ? Ms(*from) : std::numeric_limits<std::int64_t>::min());
  st->BindInt(5, to ? Ms(*to) : std::numeric_limits<std::int64_t>::max());
  return AllRows(*st);
}

Result<std::vector<Lease>> LeaseIndex::HeldBy(const std::string& holder,
                                              std::optional<Instant> from,
                                              std::optional<Instant> to) {
  const std::string mac = NormalizeMac(holder);
  return Query(mac.empty() ? "host = $2 AND $3 = ''" : "(host = $2 OR mac = $3)", holder, mac,
               from, to);
}

Result<std::vector<Lease>> LeaseIndex::OfAddress(const std::string& ip,
                                                 std::optional<Instant> from,
                                                 std::optional<Instant> to) {
  return Query("ip = $2 AND $3 = ''", ip, "", from, to);
}

Status LeaseIndex::Insert(const Lease& l) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare(std::string("INSERT INTO audit_leases "
                                                           "(contract_id, ") +
                                               kColumns + ") VALUES ($1, $2, $3, $4, $5, $6, "
                                                          "$7, $8)"));
  st->BindInt(1, contract_id_);
  st->BindBlob(2, l.ip);
  st->BindInt(3, Ms(l.from));
  st->BindInt(4, Ms(l.to));
  st->BindBlob(5, l.host);
  st->BindText(6, l.mac);
  st->BindInt(7, static_cast<std::int64_t>(l.first_leaf));
  st->BindInt(8, static_cast<std::int64_t>(l.last_leaf));
  return st->Run();
}

Status LeaseIndex::Delete(const Lease& l) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("DELETE FROM audit_leases WHERE contract_id = $1 "
                                               "AND ip = $2 AND start_ms = $3"));
  st->BindInt(1, contract_id_);
  st->BindBlob(2, l.ip);
  st->BindInt(3, Ms(l.from));
  return st->Run();
}

Status LeaseIndex::SetEnd(const Lease& l, Instant to, std::uint64_t last_leaf) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("UPDATE audit_leases SET end_ms = $4, last_leaf = "
                                               "$5 WHERE contract_id = $1 AND ip = $2 AND "
                                               "start_ms = $3"));
  st->BindInt(1, contract_id_);
  st->BindBlob(2, l.ip);
  st->BindInt(3, Ms(l.from));
  st->BindInt(4, Ms(to));
  st->BindInt(5, static_cast<std::int64_t>(last_leaf));
  return st->Run();
}

namespace {

// The rules of Grant and Release, once for both the stored index and its rebuild in memory
// (LeaseReplay), so that `verify` compares the stored rows with what the same rules give.
// `Rows` provides, for one address: Prev(at) (the lease starting at or before `at`, latest
// first), EachAfter(at, fn) (the leases starting after `at`, in order, until fn returns false),
// Delete, SetEnd and Insert; each returns a Status (Prev a Result<std::optional<Lease>>).
template <class Rows>
Status ApplyGrant(Rows& rows, const std::string& ip, const std::string& host,
                  const std::string& mac, Instant at, std::chrono::milliseconds length,
                  std::uint64_t leaf) {
  Lease n{ip, host, mac, at, at + length, leaf, leaf};
  // The lease in force at `at` (or ending exactly then).
  ISMS_ASSIGN_OR_RETURN(std::optional<Lease> prev, rows.Prev(ip, at));
  if (prev) {
    if (prev->to >= at && SameHolder(*prev, host, mac)) {
      n.from = prev->from;
      n.to = std::max(prev->to, n.to);
      n.first_leaf = prev->first_leaf;
      n.last_leaf = std::max(prev->last_leaf, leaf);
      if (n.host.empty()) n.host = prev->host;
      ISMS_RETURN_IF_ERROR(rows.Delete(*prev));
    } else if (prev->to > at) {
      ISMS_RETURN_IF_ERROR(prev->from == at ? rows.Delete(*prev)
                                            : rows.SetEnd(*prev, at, prev->last_leaf));
    }
  }
  // Leases of the address that begin during the new one: the same holder's merge into it,
  // another holder's ends it.
  std::vector<Lease> merged;
  ISMS_RETURN_IF_ERROR(rows.EachAfter(ip, at, [&](Lease&& x) {
    if (x.from > n.to) return false;
    if (SameHolder(x, n.host, n.mac)) {
      n.to = std::max(n.to, x.to);
      n.last_leaf = std::max(n.last_leaf, x.last_leaf);
      merged.push_back(std::move(x));
      return true;
    }
    n.to = std::min(n.to, x.from);
    return false;
  }));
  for (const Lease& x : merged) ISMS_RETURN_IF_ERROR(rows.Delete(x));
  return rows.Insert(n);
}

template <class Rows>
Status ApplyRelease(Rows& rows, const std::string& ip, const std::string& host,
                    const std::string& mac, Instant at, std::uint64_t leaf) {
  ISMS_ASSIGN_OR_RETURN(std::optional<Lease> prev, rows.Prev(ip, at));
  if (!prev) return Status::Ok();
  const bool holder = !mac.empty() ? prev->mac == mac : !host.empty() && prev->host == host;
  if (!holder || prev->to <= at) return Status::Ok();
  return prev->from == at ? rows.Delete(*prev) : rows.SetEnd(*prev, at, leaf);
}

}  // namespace

Result<std::optional<Lease>> LeaseIndex::Prev(const std::string& ip, Instant at) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare(std::string("SELECT ") + kColumns +
                                               " FROM audit_leases WHERE contract_id = $1 "
                                               "AND ip = $2 AND start_ms <= $3 ORDER BY "
                                               "start_ms DESC LIMIT 1"));
  st->BindInt(1, contract_id_);
  st->BindBlob(2, ip);
  st->BindInt(3, Ms(at));
  ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return std::optional<Lease>();
  return std::optional<Lease>(Row(*st));
}

Status LeaseIndex::EachAfter(const std::string& ip, Instant at,
                             const std::function<bool(Lease&&)>& fn) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare(std::string("SELECT ") + kColumns +
                                               " FROM audit_leases WHERE contract_id = $1 "
                                               "AND ip = $2 AND start_ms > $3 ORDER BY "
                                               "start_ms"));
  st->BindInt(1, contract_id_);
  st->BindBlob(2, ip);
  st->BindInt(3, Ms(at));
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row || !fn(Row(*st))) return Status::Ok();
  }
}

// The stored rows of one contract, for ApplyGrant and ApplyRelease.
struct LeaseIndex::SqlRows {
  LeaseIndex& x;
  Result<std::optional<Lease>> Prev(const std::string& ip, Instant at) { return x.Prev(ip, at); }
  Status EachAfter(const std::string& ip, Instant at, const std::function<bool(Lease&&)>& fn) {
    return x.EachAfter(ip, at, fn);
  }
  Status Delete(const Lease& l) { return x.Delete(l); }
  Status SetEnd(const Lease& l, Instant to, std::uint64_t last_leaf) {
    return x.SetEnd(l, to, last_leaf);
  }
  Status Insert(const Lease& l) { return x.Insert(l); }
};

Status LeaseIndex::Grant(const std::string& ip, const std::string& host, const std::string& mac,
                         Instant at, std::chrono::milliseconds length, std::uint64_t leaf) {
  SqlRows rows{*this};
  return ApplyGrant(rows, ip, host, mac, at, length, leaf);
}

Status LeaseIndex::Release(const std::string& ip, const std::string& host, const std::string& mac,
                           Instant at, std::uint64_t leaf) {
  SqlRows rows{*this};
  return ApplyRelease(rows, ip, host, mac, at, leaf);
}

Status LeaseIndex::ReplaceAll(std::span<const Lease> rows) {
  ISMS_ASSIGN_OR_RETURN(auto st,
                        conn_.Prepare("DELETE FROM audit_leases WHERE contract_id = $1"));
  st->BindInt(1, contract_id_);
  ISMS_RETURN_IF_ERROR(st->Run());
  for (const Lease& l : rows) ISMS_RETURN_IF_ERROR(Insert(l));
  return Status::Ok();
}

Result<std::vector<Lease>> LeaseIndex::All() {
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare(std::string("SELECT ") + kColumns +
                                               " FROM audit_leases WHERE contract_id = $1 "
                                               "ORDER BY ip, start_ms"));
  st->BindInt(1, contract_id_);
  return AllRows(*st);
}

Status LeaseIndex::DropEndedBefore(Instant t) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("DELETE FROM audit_leases WHERE contract_id = $1 "
                                               "AND end_ms < $2"));
  st->BindInt(1, contract_id_);
  st->BindInt(2, Ms(t));
  return st->Run();
}

// The rows of the rebuild in memory, for ApplyGrant and ApplyRelease: keyed by address, then by
// start, as the stored table's primary key.
struct LeaseReplay::MemoryRows {
  LeaseReplay& x;
  Result<std::optional<Lease>> Prev(const std::string& ip, Instant at) {
    auto a = x.rows_.find(ip);
    if (a == x.rows_.end()) return std::optional<Lease>();
    auto it = a->second.upper_bound(Ms(at));
    if (it == a->second.begin()) return std::optional<Lease>();
    return std::optional<Lease>(std::prev(it)->second);
  }
  Status EachAfter(const std::string& ip, Instant at, const std::function<bool(Lease&&)>& fn) {
    auto a = x.rows_.find(ip);
    if (a == x.rows_.end()) return Status::Ok();
    for (auto it = a->second.upper_bound(Ms(at)); it != a->second.end(); ++it) {
      if (!fn(Lease(it->second))) break;
    }
    return Status::Ok();
  }
  Status Delete(const Lease& l) {
    auto a = x.rows_.find(l.ip);
    if (a != x.rows_.end()) a->second.erase(Ms(l.from));
    return Status::Ok();
  }
  Status SetEnd(const Lease& l, Instant to, std::uint64_t last_leaf) {
    auto a = x.rows_.find(l.ip);
    if (a == x.rows_.end()) return Status::Ok();
    auto it = a->second.find(Ms(l.from));
    if (it != a->second.end()) {
      it->second.to = to;
      it->second.last_leaf = last_leaf;
    }
    return Status::Ok();
  }
  Status Insert(const Lease& l) {
    if (!x.rows_[l.ip].emplace(Ms(l.from), l).second) {
      // The stored table's primary key would refuse it the same way.
      return Status::AlreadyExists("a lease of " + l.ip + " already starts then");
    }
    return Status::Ok();
  }
};

Status LeaseReplay::Seed(const Lease& l) {
  MemoryRows rows{*this};
  return rows.Insert(l);
}

Status LeaseReplay::Grant(const std::string& ip, const std::string& host, const std::string& mac,
                          Instant at, std::chrono::milliseconds length, std::uint64_t leaf) {
  MemoryRows rows{*this};
  return ApplyGrant(rows, ip, host, mac, at, length, leaf);
}

Status LeaseReplay::Release(const std::string& ip, const std::string& host,
                            const std::string& mac, Instant at, std::uint64_t leaf) {
  MemoryRows rows{*this};
  return ApplyRelease(rows, ip, host, mac, at, leaf);
}

void LeaseReplay::DropEndedBefore(Instant t) {
  for (auto& [ip, by_start] : rows_) {
    std::erase_if(by_start, [&](const auto& kv) { return kv.second.to < t; });
  }
}

std::vector<Lease> LeaseReplay::Rows() const {
  std::vector<Lease> out;
  for (const auto& [ip, by_start] : rows_) {
    for (const auto& [start, l] : by_start) out.push_back(l);
  }
  return out;
}

}  // namespace isms::audit
