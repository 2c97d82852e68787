// The persistent form of one append-only Merkle log (an audit log or a ledger log of a contract)
// through store/: zstd-compressed chunks of 2^k leaves, tail batches, per-host blocks and
// per-user postings, signed checkpoints, retention and verification. Layout and rules:
// docs/audit-format.md ("Storage"); the tree and proofs: docs/audit-merkle.md.
//
// Entries are opaque bytes (for an audit log, EncodeAuditRecord) with the keys the indexes use
// (time, host, user, address); each entry's leaf hash is LeafHash(bytes). Nothing is ever one row
// per entry:
//   - the tail (the entries after the last complete chunk) is one row per Append, compressed;
//   - when the tail reaches a chunk boundary, its entries become a chunk: one row per chunk (its
//     subtree hash and time range) and one compressed block per host present in the chunk, plus
//     one posting row per (user, host) and per (address, host) pair, so a query for one host,
//     user or address reads only blocks of that host or holding that user or address.
// An entry's content can be erased (Erase): its leaf hash stays, so every root and proof does.
//
// Transactions: Append, WriteCheckpoint, Erase and Purge run inside the caller's transaction on the
// connection (they never begin or commit). Verify and proofs only read.
//
// Thread-safety: a LogStore borrows its Connection (which belongs to one thread at a time) and
// must not outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "audit/merkle.h"
#include "audit/note.h"
#include "audit/proof.h"
#include "core/status.h"
#include "core/time.h"
#include "store/store.h"

namespace isms::audit {

// Which log of a contract.
enum class LogKind : int { kAudit = 0, kLedger = 1 };

// The kinds of an entry's content as a bitmask its log's owner defines (for an audit log, one bit
// a category: app/audit.h; bits 0 to 62), 0 for none. With it, each block of a chunk stores the OR
// of its live entries' kinds, so that a scan for some kinds (LogQuery::kinds) reads only the blocks
// that hold them. Must be a pure function of the content: verify recomputes it.
using EntryKinds = std::uint64_t (*)(std::string_view content);

// The index keys an entry's content gives, as views into it (for an audit log, its record's:
// app/audit.h).
struct ContentKeys {
  std::int64_t time_ms = 0;  // ms since 1970
  std::string_view host, user, ip;
};
// Fills `out` and returns true when `content` gives its keys, false when it gives none (content
// the function does not read). Must be a pure function of the content. With it, an entry whose
// keys are exactly those its content gives is stored without them (they are read from the
// content again), which spares about a seventh of a block's bytes before compression.
using EntryKeysOf = bool (*)(std::string_view content, ContentKeys* out);

struct LogEntry {
  std::string bytes;  // the leaf's content
  Instant time{};     // when it happened: block time ranges and retention
  std::string host;   // index key ("" for none)
  std::string user;   // index key ("" for none)
  std::string ip;     // index key ("" for none): the address an audit record attributes to an
                      // asset (the source of an outbound request)
  // LeafHash(bytes) when the caller computed it already (hashed); else Append computes it.
  bool hashed = false;
  Hash leaf_hash{};
  // The caller vouches that these keys are exactly those the log's EntryKeysOf gives for
  // `bytes` (it made both from one record), so the append need not read them from `bytes` to
  // store the entry without them; else the append checks. An entry vouched for wrongly is read
  // with its content's keys: verify names it when its block is another host's, and its user and
  // address postings when they disagree.
  bool keys_of_bytes = false;
};

struct StoredEntry {
  std::uint64_t leaf = 0;
  Instant time{};
  std::string host;
  std::string user;   // "" once erased
  std::string ip;     // "" once erased
  std::string bytes;  // empty when erased
  bool erased = false;
  Hash leaf_hash{};
  bool ip_keyed = true;  // false for the entry kinds written before entries had an ip key
  bool keyed = false;    // stored without its keys, which are its content's (EntryKeysOf)
  int via = -1;  // Scan: the index in LogQuery::via of the window it matched; -1 for the host
};

// Entries whose ip key is `ip` with a time in [from, to).
struct AddressWindow {
  std::string ip;
  Instant from{};
  Instant to{};
};

// With `host`, an entry matches when its host is that host, or (the asset attribution of an
// outbound request) its ip key and time fall in one of the `via` windows. `user` and the time
// range apply to both.
struct LogQuery {
  std::optional<Instant> from;  // time >= from
  std::optional<Instant> to;    // time < to
  std::optional<std::string> host;
  std::optional<std::string> user;
  std::vector<AddressWindow> via;  // only with `host`
  // When not 0, only entries of a block whose stored kinds meet these bits (or whose kinds were
  // not stored) may be returned: a filter on blocks, not entries. The caller still tests each
  // entry. Tail entries are always returned.
  std::uint64_t kinds = 0;
  // False: entries with content come without their leaf hash (zero), which spares hashing each
  // (for callers that need only the content; an erased entry always has its stored hash).
  bool leaf_hashes = true;
};

struct LogState {
  std::uint64_t size = 0;
  int chunk_bits = 0;
  Hash root{};
};

struct InclusionProofData {
  std::uint64_t index = 0;
  std::uint64_t size = 0;
  Hash leaf_hash{};
  std::vector<Hash> hashes;
  Hash root{};
};

// Called by Verify on every live entry with content (its leaf and content), in no particular
// order and from several threads at once: it must be thread-safe. For checks of the records
// beyond the log's own (the application's lease index).
using VerifyVisit = std::function<void(std::uint64_t leaf, std::string_view content)>;

// Called by Verify on every live entry, from several threads at once (it must be thread-safe):
// its content and the keys it is stored under (time in ms, host, user, ip; no ip for an entry
// written before entries had one). Returns "" when the content gives those keys, else what
// disagrees: the keys are the log's index (searches by host, user, address and time read only
// what they name), and only the content is hashed.
using VerifyKeys = std::function<std::string(std::string_view content, std::int64_t time_ms,
                                             std::string_view host, std::string_view user,
                                             std::optional<std::string_view> ip)>;

struct VerifyReport {
  std::uint64_t size = 0;
  std::uint64_t chunks = 0;         // complete chunks checked (live)
  std::uint64_t purged_chunks = 0;  // complete chunks whose records were purged (roots kept)
  std::uint64_t tail_batches = 0;
  std::uint64_t checkpoints = 0;
  Hash root{};
  std::vector<std::string> problems;  // the first problem first; empty when the log verifies
  std::vector<std::uint64_t> erased;  // leaves whose content was erased, in order
  std::vector<Instant> erased_times;  // their times (kept by an erasure), in the same order
  std::vector<std::uint64_t> checkpoint_sizes;  // the sizes of the stored checkpoints, in order
  std::vector<Subtree> purged;  // the leaves of each purged chunk, in order
  // Filled in by the application's check of the lease index (app/audit.h): the leases stored,
  // those begun by a purged record (taken as stored), and those an erasure may have changed.
  std::uint64_t leases = 0;
  std::uint64_t leases_taken_as_stored = 0;
  std::uint64_t leases_unchecked = 0;
  // Blocks written before blocks kept their records' kinds (the application counts them for
  // the audit log; LogStore::FillKinds stores them).
  std::uint64_t blocks_without_kinds = 0;
  // Blocks and tail batches written before rows kept the SHA-256 of their stored bytes: theirs
  // are checked through the records they decompress to only.
  std::uint64_t rows_without_digest = 0;
};

struct PurgeResult {
  std::uint64_t chunks = 0;
  std::uint64_t records = 0;
  std::optional<Instant> oldest_kept;  // the earliest time of a record still stored
};

struct EntryView;  // an entry as views into a buffer (log_store.cc)

// The leaf hashes of a log's tail, [first, first + hashes.size()), kept by a long-lived writer
// between appends so that completing a chunk does not hash the tail's records again. Leaf hashes
// never change (an erasure keeps them); a cache that does not fit the log's tail is ignored.
struct TailHashes {
  std::uint64_t first = 0;
  std::vector<Hash> hashes;
  bool valid = false;
};

// Entries gathered for one append by a long-lived writer (isms serve's), each encoded into its
// host's block as it is added — while it is still in the cache, so that its record's memory can
// be used again at once — instead of when its chunk is written (a chunk of a busy server's
// records, tens of MB, has left the cache by then). Appending entries that begin at a chunk
// boundary and fill the chunk writes those blocks as they are; any other append (part of a
// chunk, or a log that grew meanwhile) takes the entries one by one, as Append of LogEntry does.
// What is stored is the same either way.
class StagedEntries {
 public:
  // `kinds`: the EntryKinds of the log the entries are for (the blocks' kinds are computed as
  // they are added; an append to a log with other EntryKinds takes the entries one by one).
  // `keys_of`: the EntryKeysOf of that log.
  explicit StagedEntries(EntryKinds kinds = nullptr, EntryKeysOf keys_of = nullptr)
      : kinds_(kinds), keys_of_(keys_of) {}

  // Empties it (keeping its memory for the next entries); the entries added next are expected
  // to become leaves `first`, first + 1, ... of the log.
  void Start(std::uint64_t first);
  // Adds an entry, hashing it first when it is not `hashed`. Its bytes and keys are copied.
  void Add(LogEntry& e);
  std::size_t size() const { return leaves_.size(); }
  bool empty() const { return leaves_.empty(); }

 private:
  friend class LogStore;
  // Bytes that grow without being zeroed first (each is written once, where it lies).
  class Buffer {
   public:
    // Where `n` more bytes go; the buffer grows by them.
    char* Extend(std::size_t n);
    void Clear() { size_ = 0; }
    std::string_view view() const { return {data_.get(), size_}; }

   private:
    std::unique_ptr<char[]> data_;
    std::size_t size_ = 0, capacity_ = 0;
  };
  // The entries of one host, encoded as a block's are, in the order added.
  struct Host {
    std::string key;
    std::size_t hash = 0;
    Buffer raw;
    std::uint32_t records = 0;
    std::int64_t lo = 0, hi = 0;  // ms since 1970
    std::uint64_t kinds = 0;
    // Where in `raw` an entry begins whose user (or address) key is not empty and differs from
    // that of the entry before it that had one: the posting keys, repeated ones included.
    std::vector<std::size_t> users, ips;
    std::string last_user, last_ip;
  };
  EntryKinds kinds_;
  EntryKeysOf keys_of_;
  std::uint64_t first_ = 0;
  std::vector<Host> hosts_;  // the first `used_` in use; the others keep their memory for more
  std::size_t used_ = 0;
  std::vector<std::uint32_t> slots_;  // open addressing: 1 + an index into hosts_, 0 for none
  std::vector<Hash> leaves_;          // in the order added
  // For each entry in the order added: its host and where its encoding begins in the host's raw.
  std::vector<std::pair<std::uint32_t, std::size_t>> at_;
};

class LogStore {
 public:
  static constexpr int kDefaultChunkBits = 16;

  // The tables of every log (same shape on both engines; blobs are BLOB / BYTEA): the first
  // migration, then the second (the address postings), which a store applies after it.
  static std::string SchemaSql(store::Engine engine);
  static std::string AddressSchemaSql(store::Engine engine);
  // The third: the state row counts the log's checkpoints (set from the rows already stored).
  static std::string CheckpointCountSql();
  // The fourth: blocks store their entries' kinds (NULL, "not known", for the blocks before).
  static std::string BlockKindsSql();
  // The fifth: an index of the blocks without kinds (only those), so that finding whether a log
  // has any, and which, does not read every block (the blocks' rows hold their data).
  static std::string BlocksWithoutKindsIndexSql();
  // The sixth: blocks and tail batches keep the SHA-256 of their stored bytes (`data_sha256`;
  // NULL for the rows written before). Verify checks it, and so do an erasure before it rewrites
  // a row and the proofs before they use a tail batch.
  static std::string DataDigestSql(store::Engine engine);
  // The seventh: the index of the blocks by host goes. With a large log, each chunk's append
  // wrote as many of its pages as the chunk had hosts; a search for a host probes each chunk's
  // blocks by their primary key instead.
  static std::string DropBlocksByHostIndexSql();

  // `chunk_bits` applies when the log is created by its first Append; an existing log keeps the
  // value it was created with. `kinds`: see EntryKinds; without it blocks store no kinds (NULL),
  // and verify requires that none has any. `keys_of`: see EntryKeysOf; without it every entry
  // stores its keys, and an entry stored without them cannot be read (Corruption).
  LogStore(store::Connection& conn, std::int64_t contract_id, LogKind kind,
           int chunk_bits = kDefaultChunkBits, EntryKinds kinds = nullptr,
           EntryKeysOf keys_of = nullptr);

  // From this many entries on, an append hashes its leaves, and a chunk's blocks are encoded and
  // compressed, by two threads (this one and another): a busy server's writer then takes the
  // second core whenever its listener waits. What is stored is the same either way.
  static constexpr std::size_t kDefaultTwoThreadEntries = 8192;
  void set_two_thread_entries(std::size_t n) { two_thread_entries_ = n; }

  // Size 0 and the empty root for a log that has no entry yet.
  Result<LogState> State();

  // Appends entries at the end of the log: one tail batch, compacting complete chunks.
  Status Append(std::span<const LogEntry> entries);
  // The same without copying the entries; it only hashes those not `hashed` yet. With `tail`,
  // uses and updates the cached leaf hashes of the tail (invalid after a failed append).
  Status Append(std::vector<LogEntry>& entries, TailHashes* tail = nullptr);
  // The same for entries wherever they are (a writer's prepared records, not moved out of them).
  Status Append(std::span<LogEntry* const> entries, TailHashes* tail = nullptr);
  // The same for staged entries (see StagedEntries), which are left as they are.
  Status Append(StagedEntries& staged, TailHashes* tail = nullptr);

  // Signs and stores a checkpoint of the current size (unless one of that size exists) and
  // returns its note. `origin` names the log (checkpoint.h).
  Result<std::string> WriteCheckpoint(const NoteSigner& signer, const std::string& origin,
                                      Instant now);
  // The latest checkpoint note, or NotFound.
  Result<std::string> LatestCheckpoint();
  // The latest checkpoint written at or before `t` (NotFound when none was).
  Result<std::string> CheckpointWrittenBy(Instant t);
  // The checkpoint note of exactly this size, or NotFound.
  Result<std::string> CheckpointAt(std::uint64_t size);

  // Entries matching `q`, in leaf order, erased ones included (with `erased` set); `fn` returns
  // false to stop.
  Status Scan(const LogQuery& q, const std::function<Result<bool>(StoredEntry&&)>& fn);

  // Stores the kinds of the blocks that have none (NULL: written before blocks kept them),
  // computed from their live records as an append would, chunk by chunk from chunk `from` on,
  // for at most `max_chunks` chunks holding such blocks. Returns what it filled and where to go
  // on; Corruption naming the chunk and host for a block that does not decode (nothing of that
  // chunk is stored). A log without EntryKinds (the ledger's) stores none: nothing is done.
  struct KindsFill {
    std::uint64_t blocks = 0;           // blocks given their kinds
    std::uint64_t chunks = 0;           // chunks they belong to
    std::optional<std::uint64_t> next;  // the chunk to go on from; none when none is left
  };
  Result<KindsFill> FillKinds(std::uint64_t from, std::size_t max_chunks);
  // The blocks that store no kinds (for a log without EntryKinds, every block). When there are
  // none, a scan for some kinds reads only their blocks.
  Result<std::uint64_t> BlocksWithoutKinds();

  // Stores the SHA-256 of the stored bytes of the blocks and tail batches that keep none (NULL:
  // written before rows kept it): the tail's batches when `from` is 0, then the blocks chunk by
  // chunk from chunk `from` on, of at most `max_chunks` chunks holding such blocks. The SHA-256
  // vouches for the bytes as they are, so a row whose bytes do not decompress is refused
  // (Corruption naming it; nothing is stored). Returns what it filled and where to go on.
  struct DigestFill {
    std::uint64_t rows = 0;             // blocks and tail batches given the SHA-256
    std::uint64_t chunks = 0;           // chunks those blocks belong to
    std::optional<std::uint64_t> next;  // the chunk to go on from; none when none is left
  };
  Result<DigestFill> FillDigests(std::uint64_t from, std::size_t max_chunks);

  // The sizes of the stored checkpoints, in order, and the leaves of each purged chunk, in
  // order: what Verify reports of them, read without verifying anything.
  Result<std::vector<std::uint64_t>> CheckpointSizes();
  Result<std::vector<Subtree>> PurgedChunks();

  // MTH of the first `size` leaves (size <= current size).
  Result<Hash> RootAt(std::uint64_t size);
  // RFC 9162 proofs over the stored log. NotFound for a purged record.
  Result<InclusionProofData> ProveInclusion(std::uint64_t index, std::uint64_t size);
  Result<std::vector<Hash>> ProveConsistency(std::uint64_t m, std::uint64_t n);

  // Recomputes every live chunk and tail batch, checks the indexes, the chunk sequence, the
  // stored root and every checkpoint (signature by `verifier`, and root at its size).
  // With `visit`, also shows it every live entry; with `keys`, also checks each live entry's
  // keys against its content.
  Result<VerifyReport> Verify(const NoteVerifier& verifier, const VerifyVisit& visit = {},
                              const VerifyKeys& keys = {});
  // As above, each checkpoint signed by any of `signing_keys` (the key and those it replaced).
  Result<VerifyReport> Verify(std::span<const NoteVerifier> signing_keys,
                              const VerifyVisit& visit = {}, const VerifyKeys& keys = {});

  // Erases the content of the entries at `leaves` (A1 3.3.4): each keeps its leaf, time, host and
  // leaf hash; its content, user and ip keys are dropped, and the postings follow. Returns the
  // entries as they were, content included, in leaf order; entries already erased are skipped.
  // InvalidArgument for a leaf beyond the log, FailedPrecondition for one in a purged chunk,
  // Corruption (nothing erased) when a chunk or tail batch involved does not verify.
  Result<std::vector<StoredEntry>> Erase(std::span<const std::uint64_t> leaves);

  // Drops the blocks and postings of every complete chunk whose records all have time < cutoff,
  // keeping the chunk's subtree hash and the boundary hashes of every checkpoint inside it.
  Result<PurgeResult> Purge(Instant cutoff, Instant now);

 private:
  struct Chunk;
  struct Batch;
  struct ChunkJob;
  // The note of the largest checkpoint meeting `condition` on $3 = `value`, or NotFound saying
  // `missing`.
  Result<std::string> CheckpointWhere(std::string_view condition, std::int64_t value,
                                      const std::string& missing);
  // Runs `sql`, whose $1 and $2 are this log's contract and kind and $3... `more`, calling `fn`
  // on each row.
  Status EachRow(std::string_view sql, const std::function<Status(const store::Statement&)>& fn,
                 std::initializer_list<std::int64_t> more = {});
  Result<int> ChunkBits();
  // The chunks from `from` on that hold blocks whose `column` (a column name of this file's,
  // never input) is NULL, at most `max_chunks` of them; `next` the chunk after them, if any.
  Result<std::vector<std::uint64_t>> ChunksWithBlocksLacking(std::string_view column,
                                                             std::uint64_t from,
                                                             std::size_t max_chunks,
                                                             std::optional<std::uint64_t>& next);
  // A block column's value: an integer or bytes.
  using BlockColumn = std::variant<std::int64_t, std::string>;
  using BlockValue = std::function<Result<BlockColumn>(std::string_view data)>;
  // Gives each block of chunk `chunk_no` whose `column` is NULL the value `value` makes of its
  // stored bytes. An error is returned naming the chunk and the block's host, and nothing of the
  // chunk is stored. Returns how many blocks it filled.
  Result<std::uint64_t> FillBlocksLacking(std::string_view column, std::uint64_t chunk_no,
                                          const BlockValue& value);
  Status LoadChunks(std::vector<Chunk>& out);
  Status LoadBatches(std::vector<Batch>& out, bool with_data);
  Result<std::vector<StoredEntry>> ChunkEntries(std::uint64_t chunk_no);
  // `root`: the chunk's subtree hash when the caller has it (from the tree's merge), else it is
  // computed from the entries' leaf hashes.
  Status WriteChunk(std::uint64_t chunk_no, std::span<const EntryView> entries,
                    const Hash* root = nullptr);
  Status WriteTail(std::span<const EntryView> entries);
  // Appends `fresh` (their leaf numbers are set here): the tail batch, and complete chunks. With
  // `staged` (and `fresh` empty) the entries are the staged ones: a chunk they fill from its
  // boundary is written from their blocks; otherwise they are taken as views into the blocks.
  Status AppendViews(std::span<EntryView> fresh, TailHashes* tail, const StagedEntries* staged);
  // One host's block of a chunk, compressed, and the chunk's rows.
  struct BlockRow;
  Status InsertChunk(std::uint64_t chunk_no, std::span<const BlockRow> blocks,
                     std::span<const std::pair<std::string_view, std::string_view>> users,
                     std::span<const std::pair<std::string_view, std::string_view>> ips,
                     const Hash& root, std::size_t records, std::int64_t min_t, std::int64_t max_t);
  Status WriteStagedChunk(std::uint64_t chunk_no, const StagedEntries& staged, const Hash& root);
  Status WritePostings(std::uint64_t chunk_no, std::string_view host,
                       std::span<const EntryView* const> entries);
  // The posting rows of one chunk: (user, host) and (address, host) pairs.
  Status InsertPostings(std::uint64_t chunk_no,
                        std::span<const std::pair<std::string_view, std::string_view>> users,
                        std::span<const std::pair<std::string_view, std::string_view>> ips);
  Status ScanBlocks(const LogQuery& q, const std::function<bool(StoredEntry&)>& keep,
                    const std::function<Result<bool>(StoredEntry&&)>& fn, bool& stop);
  Result<SparseHashSource> SourceFor(std::vector<std::uint64_t> positions);

  store::Connection& conn_;
  std::int64_t contract_id_;
  int log_;
  int chunk_bits_;
  std::size_t two_thread_entries_ = kDefaultTwoThreadEntries;
  EntryKinds kinds_;
  EntryKeysOf keys_of_;
};

}  // namespace isms::audit
