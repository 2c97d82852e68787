// The audit-record use cases: ingest (parse, classify, append, sign a checkpoint), search (with
// the asset attribution of outbound requests by DHCP lease), export, verify, proofs, erasure,
// retention, and the ledger log's append. Storage: audit/log_store.h;
// layout and the separate SQLite file: docs/audit-format.md ("Storage").
//
// Where the audit data lives: on SQLite in its own database file beside the main one
// (isms.db -> isms-audit.db, see AuditStoreUrl), so a long import holds only that file's write
// lock and never blocks the ledger; on PostgreSQL in the same database (migration 4), on a
// second connection of its own. Either way an AuditService holds two connections: the Ledger's
// (contracts, events) and the audit one.
//
// Signing key: one Ed25519 key per installation (note.h), in the key directory: beside the SQLite
// file, or for PostgreSQL the directory given by --key-dir or $ISMS_KEY_DIR. The secret is
// "audit-checkpoint.key" (mode 0600) and the verifier key, given to the buyer,
// "audit-checkpoint.pub".
//
// Thread-safety: one AuditService per thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "app/ledger.h"
#include "audit/lease_index.h"
#include "audit/log_store.h"
#include "audit/note.h"
#include "core/status.h"
#include "core/time.h"
#include "formats/audit_classify.h"
#include "formats/audit_record.h"
#include "store/store.h"

namespace isms::app {

inline constexpr const char* kAuditKeyName = "isms-audit";
inline constexpr const char* kAuditKeyFile = "audit-checkpoint.key";
inline constexpr const char* kAuditPublicKeyFile = "audit-checkpoint.pub";

// The store URL of the audit data for a main store URL: "sqlite:DIR/NAME.db" gives
// "sqlite:DIR/NAME-audit.db"; a PostgreSQL URL is returned as is.
std::string AuditStoreUrl(const std::string& url);

// The key directory: `key_dir` when not empty, else $ISMS_KEY_DIR, else (SQLite) the folder of
// the store file. FailedPrecondition for PostgreSQL without either.
Result<std::string> AuditKeyDir(const std::string& url, const std::string& key_dir);

struct AuditKeyInfo {
  std::string private_path;
  std::string public_path;
  std::string verifier_key;  // the content of the public key file
  bool created = false;
};

// Creates the signing key in `dir` (the folder too) when it is missing: the secret with mode
// 0600, the verifier key beside it. Refuses (PermissionDenied) an existing secret readable by
// others. `isms init` calls it.
Result<AuditKeyInfo> EnsureAuditKey(const std::string& dir);

// Key rotation (docs/audit-merkle.md, "Key rotation"). A rotation replaces the signing key in the
// key directory with a new one and leaves there
//   - "audit-checkpoint-retired-<KEYID>.pub": the old verifier key, so that the checkpoints it
//     signed still verify (AuditVerifierKeys), and
//   - "audit-key-transition-<NEWKEYID>.note": a signed note, by the old key and by the new one,
//       isms audit key transition
//       from <old verifier key>
//       to <new verifier key>
//       at <RFC 3339 time>
//     which tells a buyer who holds the old key which key signs from then on
//     (OpenAuditKeyTransition).
// The old secret is replaced (the file renamed over), never kept.
inline constexpr const char* kAuditRetiredKeyPrefix = "audit-checkpoint-retired-";
inline constexpr const char* kAuditKeyTransitionPrefix = "audit-key-transition-";
// Held (flock) by a rotation, so that two rotations of one directory take turns.
inline constexpr const char* kAuditKeyLockFile = "audit-key-rotation.lock";

struct AuditKeyRotation {
  audit::NoteVerifier old_key, new_key;
  std::string retired_path;     // the old verifier key's file
  std::string public_path;      // the new verifier key's file (audit-checkpoint.pub)
  std::string transition_path;  // the transition note's file
  std::string transition_note;
};
// Replaces the signing key in `dir` (FailedPrecondition when there is none; PermissionDenied when
// it is readable by others, as EnsureAuditKey). A process that signs with the key (a server)
// takes the new one at its next checkpoint (AuditService::Signer).
Result<AuditKeyRotation> RotateAuditKey(const std::string& dir, Instant now);

// The verifier keys of the key directory `dir`: the current key's first, then the retired ones
// (in file name order). A checkpoint signed by any of them verifies.
Result<std::vector<audit::NoteVerifier>> AuditVerifierKeys(const std::string& dir);

// The key transitions of `dir`, oldest first (by their `at` time): each file's note.
Result<std::vector<std::string>> AuditKeyTransitionNotes(const std::string& dir);

struct AuditKeyTransition {
  audit::NoteVerifier from, to;
  std::string at;  // as written, RFC 3339
};
// Checks a transition note against the keys a buyer trusts: it must be signed by one of
// `trusted` and name that key as `from`, and be signed by the `to` key it names.
// InvalidArgument for a note of another shape, PermissionDenied for a signature.
Result<AuditKeyTransition> OpenAuditKeyTransition(std::string_view note,
                                                  std::span<const audit::NoteVerifier> trusted);
// A transition note checked only against the old key it names itself: whole, and signed by
// both keys, but not proof that the old key is one to trust (for listing the notes).
Result<AuditKeyTransition> AuditKeyTransitionOf(std::string_view note);

struct AuditIngestRequest {
  std::string contract;
  std::string data;    // the whole input
  std::string source;  // its name in messages
  std::string format;  // "syslog" or "jsonl"
};

// A record made ready for the log — classified, canonically encoded, and hashed unless asked
// not to be — by an AuditPreparer, so that this work can run on other threads than the writer's;
// AppendPrepared stores it (and hashes it when it was not).
struct PreparedAuditRecord {
  audit::LogEntry entry;  // hashed unless PrepareInto was told not to
  AuditCategory category = AuditCategory::kOther;
  // What a DHCP record tells the lease index (asset attribution), when it tells something.
  struct Lease {
    std::string ip, host, mac;  // mac normalised (audit::NormalizeMac) when it could be
    bool release = false;
    std::chrono::milliseconds length{0};
  };
  // Held apart (null for every other record): a record passes from core to core, and its lease
  // fields, inline, would have made every record two cache lines longer.
  std::unique_ptr<Lease> lease;
};

// Classifies with one contract's rules (its policy's [[audit.rules]], then the built-in ones)
// and prepares records. Immutable: Prepare may run on many threads at once.
class AuditPreparer {
 public:
  // InvalidArgument when the record cannot be encoded canonically (formats/audit_record.h).
  Result<PreparedAuditRecord> Prepare(AuditRecord&& record) const;
  // The same into `out`, which may hold an earlier prepared record: every field is replaced and
  // the memory of its strings is used again (a listener prepares every record into records it
  // keeps). `record` is classified in place and left as it was otherwise. Without `hash`, the
  // leaf hash is left to the caller or AppendPrepared (`entry.hashed` false): `isms serve`
  // hashes each read's records together (audit::LeafHasher).
  Status PrepareInto(AuditRecord& record, PreparedAuditRecord& out, bool hash = true) const;
  // The same for a view (ParseSyslogMessageInto): it is classified in place, its fields then
  // referring to this preparer's rules too; its bytes are copied once, into `out`. The same
  // prepared record as PrepareInto of the owned record it stands for.
  Status PrepareInto(AuditRecordView& record, PreparedAuditRecord& out, bool hash = true) const;
  // The policy text the rules came from.
  const std::string& policy_toml() const { return policy_toml_; }
  const AuditSettings& settings() const { return settings_; }

 private:
  friend class AuditService;
  AuditPreparer() = default;
  std::string policy_toml_;
  std::unique_ptr<AuditClassifier> classifier_;
  AuditSettings settings_;
};

// Prepared records gathered for one append by a long-lived writer (isms serve's): each record's
// entry is encoded into its host's block as it is added (audit::StagedEntries), and what the
// append needs besides is kept here, so that the record's memory can be used again at once.
// AuditService::AppendStaged stores them as AppendPrepared would the records.
class StagedAuditRecords {
 public:
  StagedAuditRecords();
  // Empties it; the records added next are expected to become leaves `first`, first + 1, ...
  // of the contract's audit log (when the log has grown otherwise, they are appended all the
  // same, after what it holds).
  void Start(std::uint64_t first);
  // Adds a record (hashing it when it is not hashed yet), leaving it as it was otherwise.
  void Add(PreparedAuditRecord& record);
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  friend class AuditService;
  audit::StagedEntries entries_;
  std::array<std::int64_t, 8> counts_{};  // by category
  // The lease facts of the DHCP records: (index among the records, the record's time, lease).
  struct LeaseAt {
    std::size_t index = 0;
    Instant at{};
    PreparedAuditRecord::Lease lease;
  };
  std::vector<LeaseAt> leases_;
};

struct AuditIngestResult {
  std::int64_t records = 0;
  std::map<std::string, std::int64_t> categories;  // category key -> count
  std::uint64_t first_leaf = 0;
  std::uint64_t size = 0;
  std::string checkpoint;  // the signed note written at the commit
};

// `host` selects the records the host sent and (asset attribution, A1 8.1.1) the outbound
// requests whose source address the host held by DHCP lease at the request's time (a host name or
// a MAC address; docs/audit-format.md). An erased record matches on its time and host only: a
// search by user, category or text never returns it.
struct AuditSearchRequest {
  std::string contract;
  std::optional<Instant> from, to;
  std::optional<std::string> host, user, category, text;
  std::int64_t limit = -1;  // -1: no limit
  bool follow_leases = true;
};

struct AuditHit {
  std::uint64_t leaf = 0;
  // An erased record has only its time and host; its content is gone, its leaf hash stays.
  bool erased = false;
  audit::Hash leaf_hash{};
  AuditRecord record;
  // Set when the record matched `host` through a DHCP lease: the lease of its source address.
  std::optional<audit::Lease> via_lease;
};

// Which records to erase: the leaves listed, and/or every record a search finds.
struct AuditEraseRequest {
  std::string contract;
  std::vector<std::uint64_t> leaves;
  std::optional<AuditSearchRequest> filter;
  std::string reason;
};

struct AuditEraseResult {
  std::vector<std::uint64_t> leaves;  // erased now, in order
  std::uint64_t already_erased = 0;   // asked for but erased before
  std::uint64_t leases_dropped = 0;   // DHCP leases gone when the index was rebuilt without them
  std::int64_t event_id = 0;          // the audit.erased event of the ledger
};

// "3,7-9,12": the leaves in order as ranges.
std::string LeafRanges(const std::vector<std::uint64_t>& sorted_leaves);
// The leaves of "3,7-9,12"; InvalidArgument naming the bad part.
Result<std::vector<std::uint64_t>> ParseLeafRanges(std::string_view text);

// What `isms audit upgrade` did, in transactions of at most AuditService::kUpgradeChunks chunks:
// the audit log's blocks written before blocks kept their records' kinds, given them; and the
// blocks and tail batches of both logs written before rows kept the SHA-256 of their bytes,
// given it.
struct AuditUpgradeResult {
  std::uint64_t blocks = 0;   // given their kinds
  std::uint64_t chunks = 0;   // those blocks' chunks
  std::uint64_t digests = 0;  // blocks and tail batches given the SHA-256 of their bytes
  std::uint64_t transactions = 0;
};

struct AuditPurgeResult {
  audit::PurgeResult purged;
  Date before;
};

// The chunk size of a new audit log, 2^K records: $ISMS_AUDIT_CHUNK_BITS when it holds K in
// 8..20, else audit::LogStore::kDefaultChunkBits (16). Larger chunks compress better (a chunk
// is split into one block per host); smaller ones let retention drop data sooner. A log keeps
// the size it was created with.
int DefaultAuditChunkBits();

// The kinds of an audit log's entry (audit::EntryKinds): bit N for a record of category N (the
// number of its canonical encoding: 0 other, 1 outbound-request, 2 dhcp-lease, ...), read from
// its category byte; 0 for bytes that are not a canonical audit record. AuditKindsOf: the bit
// of one category.
std::uint64_t AuditEntryKinds(std::string_view content);
std::uint64_t AuditKindsOf(AuditCategory c);
// The index keys of an audit record's canonical bytes (audit::EntryKeysOf): its time, host and
// user, and its source address when it is an outbound request (as AuditPreparer::PrepareInto
// indexes it). The audit log stores an entry indexed under exactly these without them.
bool AuditEntryKeysOf(std::string_view content, audit::ContentKeys* out);

// The record of canonical `bytes` when it is of `category` and its message holds `text` (each
// when given), else nothing; an error for bytes that do not decode. A record ruled out by its
// category byte, or by bytes without the text (the message is held in them verbatim), is not
// decoded.
Result<std::optional<AuditRecord>> DecodeIfMatching(std::string_view bytes,
                                                    std::optional<AuditCategory> category,
                                                    const std::optional<std::string>& text);

// An audit log (a contract's, or the access records') on `conn`, its blocks keeping their
// records' kinds so that a search by category and the lease index's rebuild read only the
// blocks that hold such records, and its entries stored without the keys their records give
// (AuditEntryKeysOf). Every reader of an audit log opens it through this.
audit::LogStore AuditLog(store::Connection& conn, std::int64_t contract_id,
                         int chunk_bits = DefaultAuditChunkBits());

class AuditService {
 public:
  // Opens the ledger store at `url` and the audit store beside it, applying migrations.
  static Result<std::unique_ptr<AuditService>> Open(const std::string& url,
                                                    const std::string& key_dir, const Clock& clock,
                                                    int chunk_bits = DefaultAuditChunkBits());

  Ledger& ledger() { return *ledger_; }
  store::Connection& audit_connection() { return *conn_; }
  // The key this service signs with; created on first use when missing (EnsureAuditKey).
  Result<audit::NoteSigner> Signer();
  Result<audit::NoteVerifier> Verifier();
  // The key and the keys it replaced (AuditVerifierKeys): what stored checkpoints verify with.
  Result<std::vector<audit::NoteVerifier>> Verifiers();
  // The folder of the signing key; FailedPrecondition for PostgreSQL without one (AuditKeyDir).
  Result<std::string> KeyDir() const;
  // The signing key's transition notes, oldest first (AuditKeyTransitionNotes of KeyDir()); none
  // without a key folder.
  Result<std::vector<std::string>> KeyTransitionNotes() const;
  // Set when Signer() created the key.
  const std::optional<AuditKeyInfo>& created_key() const { return created_key_; }

  // Parses the whole input (a bad JSON line refuses all of it), classifies each record (built-in
  // rules after the contract policy's [[audit.rules]]), appends them and writes a checkpoint, in
  // one transaction.
  Result<AuditIngestResult> Ingest(const AuditIngestRequest& r);

  // Classifies and appends records already parsed (a listener's batch), and writes a checkpoint,
  // in one transaction. Each record keeps its own `received` time.
  Result<AuditIngestResult> AppendRecords(const std::string& contract,
                                          std::vector<AuditRecord> records);

  // The preparer of a contract's current rules: the same object until its policy changes.
  Result<std::shared_ptr<const AuditPreparer>> Preparer(const std::string& contract);
  // Appends prepared records, updates the lease index and writes a checkpoint, in one
  // transaction. The records are left as they were (for a retry when it fails).
  Result<AuditIngestResult> AppendPrepared(const std::string& contract,
                                           std::vector<PreparedAuditRecord>& records);
  // The same for records wherever they are, in the order given (a listener's reads, each a
  // vector of its own, appended without moving a record).
  Result<AuditIngestResult> AppendPrepared(const std::string& contract,
                                           std::span<PreparedAuditRecord* const> records);

  // The same for staged records, which are left as they were.
  Result<AuditIngestResult> AppendStaged(const std::string& contract, StagedAuditRecords& staged);

  // Matching records in log order; `fn` returns false to stop.
  Status Search(const AuditSearchRequest& r, const std::function<Result<bool>(AuditHit&&)>& fn);

  // The DHCP leases held by a host (a host name or MAC address) or of an address, overlapping
  // [from, to), in time order.
  Result<std::vector<audit::Lease>> Leases(const std::string& contract,
                                           const std::optional<std::string>& holder,
                                           const std::optional<std::string>& ip,
                                           std::optional<Instant> from, std::optional<Instant> to);

  // Erases the content of records (A1 3.3.4) while their leaf hashes stay, so verification and
  // every proof still pass; the DHCP leases an erased record started are dropped. Then records
  // audit.erased in the ledger (the leaves, how many, the reason): two transactions, as for a
  // purge. With `dry_run`, only says which leaves would be erased.
  Result<AuditEraseResult> Erase(const AuditEraseRequest& r, const Actor& actor,
                                 bool dry_run = false);

  // The latest signed checkpoint of the contract's audit log.
  Result<std::string> LatestCheckpoint(const std::string& contract);
  // The latest checkpoint of the contract's audit log written at or before `t` (NotFound when
  // none was): what a report as of `t` prints.
  Result<std::string> CheckpointWrittenBy(const std::string& contract, Instant t);
  Result<std::string> CheckpointAt(const std::string& contract, std::uint64_t size);
  // The origin of a contract's audit log: "isms/<contract>/audit".
  static std::string Origin(const std::string& contract, audit::LogKind kind);

  // Full verification; with `against` (a signed checkpoint the buyer kept), also proves that
  // today's log extends it (appended to the report's problems when it does not). Every erased
  // record must be named by an audit.erased event of the ledger.
  Result<audit::VerifyReport> Verify(const std::string& contract,
                                     const std::optional<std::string>& against);

  Result<audit::InclusionProofData> ProveInclusion(const std::string& contract, std::uint64_t index,
                                                   std::uint64_t size);
  Result<std::vector<audit::Hash>> ProveConsistency(const std::string& contract, std::uint64_t m,
                                                    std::uint64_t n);
  Result<audit::LogState> State(const std::string& contract);

  // Purges whole chunks whose records are all older than the start of London day `before`;
  // refuses a date younger than the retention period of the policy in force; records
  // audit.purged in the ledger.
  Result<AuditPurgeResult> Purge(const std::string& contract, Date before, const Actor& actor);
  // Brings the contract's audit log up to date: stores the kinds of the records of each block
  // written before blocks kept them, so that searches by category and the erasure of DHCP
  // records read only the blocks they need. Each transaction fills at most kUpgradeChunks
  // chunks (a running `isms serve` commits between them). Stored kinds are checked by verify.
  static constexpr std::size_t kUpgradeChunks = 16;
  Result<AuditUpgradeResult> Upgrade(const std::string& contract);

  // Appends one ledger event's bytes to the contract's ledger log (never purged) and signs a
  // checkpoint of it.
  Status AppendLedgerEvent(const std::string& contract, std::string_view bytes);

  // Brings the contract's ledger log up to date: appends every event recorded since (leaf i is
  // event i + 1, as EncodeEventCanonical writes it) and signs a checkpoint, in one transaction.
  // Returns how many events were appended. The events table is the source: the log may lag
  // behind it (a failed or skipped sync) but never disagrees with it.
  Result<std::uint64_t> SyncLedgerLog(const std::string& contract);

  // Verifies the ledger log like the audit log, then that each of its leaves is the canonical
  // form of the event of that number: a changed, deleted or renumbered event is named.
  // Events not yet in the log are reported in `lagging`.
  struct LedgerVerifyReport {
    audit::VerifyReport log;
    std::uint64_t events = 0;
    std::uint64_t lagging = 0;
  };
  Result<LedgerVerifyReport> VerifyLedger(const std::string& contract);

 private:
  AuditService(std::unique_ptr<Ledger> ledger, std::unique_ptr<store::Connection> conn,
               std::string key_dir, const Clock& clock, int chunk_bits)
      : ledger_(std::move(ledger)),
        conn_(std::move(conn)),
        key_dir_(std::move(key_dir)),
        clock_(clock),
        chunk_bits_(chunk_bits) {}
  Result<std::int64_t> ContractId(const std::string& contract);
  // The contract's preparer, built once per policy text.
  Result<std::shared_ptr<const AuditPreparer>> PreparerOf(const ContractRecord& c);
  // Applies the lease facts of a batch appended from `first_leaf` to the lease index (each with
  // the index of its record in the batch, in order).
  using LeaseBatch =
      std::vector<std::tuple<std::size_t, Instant, const PreparedAuditRecord::Lease*>>;
  Status IndexLeases(std::int64_t contract_id, LeaseBatch leases, std::uint64_t first_leaf);
  // Appends a batch of `records` records with `append` (LogStore::Append of them), indexes its
  // leases and writes a checkpoint, in one transaction.
  Result<AuditIngestResult> AppendBatch(
      const std::string& contract, std::size_t records, const std::array<std::int64_t, 8>& counts,
      LeaseBatch leases, const std::function<Status(audit::LogStore&, audit::TailHashes*)>& append);
  // LogStore::Verify with this installation's key.
  Result<audit::VerifyReport> VerifyLog(audit::LogStore& log, const audit::VerifyVisit& visit,
                                        const audit::VerifyKeys& keys);

  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<store::Connection> conn_;
  std::string key_dir_;
  const Clock& clock_;
  int chunk_bits_;
  std::optional<AuditKeyInfo> created_key_;
  std::optional<audit::NoteSigner> signer_;
  // The secret's file as it was when signer_ was read: a rotation replaces it.
  std::uint64_t signer_inode_ = 0;
  std::int64_t signer_mtime_ns_ = 0;
  std::map<std::int64_t, std::shared_ptr<const AuditPreparer>> preparers_;
  std::map<std::int64_t, audit::TailHashes> tails_;  // the audit log's tail, by contract
};

}  // namespace isms::app
