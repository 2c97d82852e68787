#include "formats/audit_regex.h"

#include <string.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "core/bytes.h"

namespace isms {
namespace {

constexpr std::size_t kMaxProgram = 20000;

bool IsWord(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
unsigned char Lower(unsigned char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c - 'A' + 'a') : c;
}
unsigned char Upper(unsigned char c) {
  return c >= 'a' && c <= 'z' ? static_cast<unsigned char>(c - 'a' + 'A') : c;
}

std::bitset<256> ClassOf(char escape) {
  std::bitset<256> s;
  for (int c = 0; c < 256; ++c) {
    const auto u = static_cast<unsigned char>(c);
    bool in = false;
    switch (escape) {
      case 'd': case 'D': in = u >= '0' && u <= '9'; break;
      case 's': case 'S':
        in = u == ' ' || u == '\t' || u == '\n' || u == '\v' || u == '\f' || u == '\r';
        break;
      case 'w': case 'W': in = IsWord(u); break;
      default: break;
    }
    s[static_cast<std::size_t>(c)] = in;
  }
  if (escape == 'D' || escape == 'S' || escape == 'W') s.flip();
  return s;
}

int ControlEscape(char c) {
  switch (c) {
    case 't': return '\t';
    case 'n': return '\n';
    case 'r': return '\r';
    case 'f': return '\f';
    case 'v': return '\v';
    default: return -1;
  }
}

// Punctuation that may be escaped to stand for itself.
bool IdentityEscape(char c) {
  return std::strchr("\\^$.|?*+()[]{}/-=!:,<>'\"#&%@~`; _", c) != nullptr && c != '\0';
}

struct Node {
  enum Kind { kEmpty, kByte, kAny, kClass, kSeq, kAlt, kGroup, kRepeat, kAssert } kind = kEmpty;
  unsigned char byte = 0;
  std::size_t cls = 0;
  std::vector<Node> kids;
  int group = -1;  // capture number of a kGroup, -1 for (?:...)
  int min = 0, max = 0;  // kRepeat; max -1: unbounded
  bool greedy = true;
  int op = 0;  // kAssert: an Op
};

bool Nullable(const Node& n) {
  switch (n.kind) {
    case Node::kEmpty: case Node::kAssert: return true;
    case Node::kByte: case Node::kAny: case Node::kClass: return false;
    case Node::kSeq:
      for (const Node& k : n.kids) if (!Nullable(k)) return false;
      return true;
    case Node::kAlt:
      for (const Node& k : n.kids) if (Nullable(k)) return true;
      return false;
    case Node::kGroup: return Nullable(n.kids[0]);
    case Node::kRepeat: return n.min == 0 || Nullable(n.kids[0]);
  }
  return true;
}

}  // namespace

class FastRegexCompiler {
 public:
  FastRegexCompiler(std::string_view p, bool icase, FastRegex& out) : p_(p), icase_(icase), re_(out) {}

  bool Compile() {
    Node root;
    if (!Alt(root) || i_ != p_.size()) return false;
    re_.groups_ = static_cast<std::size_t>(groups_ + 1);
    Emit(FastRegex::Inst{FastRegex::Op::kSave, 0, 0, true, -1, 0, 0});
    if (!Gen(root)) return false;
    Emit(FastRegex::Inst{FastRegex::Op::kSave, 0, 0, true, -1, 1, 0});
    Emit(FastRegex::Inst{FastRegex::Op::kMatch, 0, 0, true, -1, 0, 0});
    if (re_.prog_.size() > kMaxProgram) return false;
    // The byte that must follow each kStar, through captures and word assertions.
    for (FastRegex::Inst& in : re_.prog_) {
      if (in.op != Op::kStar) continue;
      std::size_t k = static_cast<std::size_t>(&in - re_.prog_.data()) + 1;
      while (k < re_.prog_.size() &&
             (re_.prog_[k].op == Op::kSave || re_.prog_[k].op == Op::kWordB ||
              re_.prog_[k].op == Op::kNotWordB)) {
        ++k;
      }
      if (k < re_.prog_.size() && re_.prog_[k].op == Op::kByte) in.next = re_.prog_[k].byte;
      if (k < re_.prog_.size() && re_.prog_[k].op == Op::kLiteral) {
        in.next = static_cast<unsigned char>(re_.literals_[re_.prog_[k].x]);
      }
      // `\S+ ` or `[^)]*\)`: a shorter run would have to end at a `next` byte inside it.
      if (in.next >= 0) {
        const auto b = static_cast<unsigned char>(in.next);
        const bool takes = in.what == 0   ? in.byte == b
                           : in.what == 1 ? b != '\n' && b != '\r'
                                          : re_.classes_[in.x][b];
        in.possessive = !takes;
      }
    }
    const Node* first = &root;
    while (first->kind == Node::kSeq && !first->kids.empty()) first = &first->kids[0];
    re_.anchored_ = first->kind == Node::kAssert &&
                    first->op == static_cast<int>(FastRegex::Op::kBol);
    if (first->kind == Node::kByte && !(icase_ && Lower(first->byte) != Upper(first->byte))) {
      re_.first_byte_ = first->byte;
    }
    return true;
  }

 private:
  using Op = FastRegex::Op;
  bool End() const { return i_ >= p_.size(); }
  char Peek() const { return p_[i_]; }

  bool Alt(Node& out) {
    Node alt;
    alt.kind = Node::kAlt;
    while (true) {
      Node seq;
      if (!Seq(seq)) return false;
      alt.kids.push_back(std::move(seq));
      if (End() || Peek() != '|') break;
      ++i_;
    }
    if (alt.kids.size() == 1) {
      out = std::move(alt.kids[0]);
    } else {
      out = std::move(alt);
    }
    return true;
  }

  bool Seq(Node& out) {
    out.kind = Node::kSeq;
    while (!End() && Peek() != '|' && Peek() != ')') {
      Node atom;
      if (!Quantified(atom)) return false;
      out.kids.push_back(std::move(atom));
    }
    return true;
  }

  bool Quantified(Node& out) {
    Node atom;
    if (!Atom(atom)) return false;
    if (End()) {
      out = std::move(atom);
      return true;
    }
    int min = -1, max = -1;
    const char c = Peek();
    if (c == '*') {
      min = 0, max = -1, ++i_;
    } else if (c == '+') {
      min = 1, max = -1, ++i_;
    } else if (c == '?') {
      min = 0, max = 1, ++i_;
    } else if (c == '{') {
      ++i_;
      if (!Number(min)) return false;
      max = min;
      if (!End() && Peek() == ',') {
        ++i_;
        max = -1;
        if (!End() && Peek() != '}' && !Number(max)) return false;
      }
      if (End() || Peek() != '}' || (max >= 0 && max < min)) return false;
      ++i_;
    } else {
      out = std::move(atom);
      return true;
    }
    if (atom.kind == Node::kAssert) return false;
    bool greedy = true;
    if (!End() && Peek() == '?') {
      greedy = false;
      ++i_;
    }
    if (!End() && (Peek() == '*' || Peek() == '+' || Peek() == '?' || Peek() == '{')) return false;
    // ECMAScript fails an iteration beyond the minimum that matches empty; not modelled.
    if (Nullable(atom) && (max < 0 || max > min)) return false;
    out.kind = Node::kRepeat;
    out.min = min;
    out.max = max;
    out.greedy = greedy;
    out.kids.push_back(std::move(atom));
    return true;
  }

  bool Number(int& v) {
    if (End() || Peek() < '0' || Peek() > '9') return false;
    v = 0;
    while (!End() && Peek() >= '0' && Peek() <= '9') {
      v = v * 10 + (Peek() - '0');
      if (v > 1000) return false;
      ++i_;
    }
    return true;
  }

  bool Atom(Node& out) {
    const char c = Peek();
    ++i_;
    switch (c) {
      case '(': {
        out.kind = Node::kGroup;
        if (!End() && Peek() == '?') {
          if (i_ + 1 >= p_.size() || p_[i_ + 1] != ':') return false;
          i_ += 2;
        } else {
          out.group = ++groups_;
        }
        Node inner;
        if (!Alt(inner)) return false;
        if (End() || Peek() != ')') return false;
        ++i_;
        out.kids.push_back(std::move(inner));
        return true;
      }
      case '[': return Bracket(out);
      case '.': out.kind = Node::kAny; return true;
      case '^': out.kind = Node::kAssert; out.op = static_cast<int>(Op::kBol); return true;
      case '$': out.kind = Node::kAssert; out.op = static_cast<int>(Op::kEol); return true;
      case '\\': {
        if (End()) return false;
        const char e = Peek();
        ++i_;
        if (e == 'b' || e == 'B') {
          out.kind = Node::kAssert;
          out.op = static_cast<int>(e == 'b' ? Op::kWordB : Op::kNotWordB);
          return true;
        }
        if (e == 'd' || e == 'D' || e == 's' || e == 'S' || e == 'w' || e == 'W') {
          out.kind = Node::kClass;
          out.cls = AddClass(ClassOf(e));
          return true;
        }
        if (const int ctl = ControlEscape(e); ctl >= 0) {
          out.kind = Node::kByte;
          out.byte = static_cast<unsigned char>(ctl);
          return true;
        }
        if (!IdentityEscape(e)) return false;
        out.kind = Node::kByte;
        out.byte = static_cast<unsigned char>(e);
        return true;
      }
      case ')': case '*': case '+': case '?': case '{': case '}': case ']': case '|':
        return false;
      default:
        out.kind = Node::kByte;
        out.byte = static_cast<unsigned char>(c);
        return true;
    }
  }

  // After '[': a class; negated, ranges and class escapes; "[]" and "[^]" and POSIX classes
  // are left to std::regex.
  bool Bracket(Node& out) {
    bool negate = false;
    if (!End() && Peek() == '^') {
      negate = true;
      ++i_;
    }
    if (End() || Peek() == ']') return false;
    std::bitset<256> set;
    auto add = [&](unsigned char lo, unsigned char hi) {
      for (int c = 0; c < 256; ++c) {
        const auto u = static_cast<unsigned char>(c);
        const bool in = (u >= lo && u <= hi) ||
                        (icase_ && ((Lower(u) >= lo && Lower(u) <= hi) ||
                                    (Upper(u) >= lo && Upper(u) <= hi)));
        if (in) set[static_cast<std::size_t>(c)] = true;
      }
    };
    // One class member: a byte (returns 1) or a class escape (returns 2, already added).
    auto member = [&](unsigned char& b) -> int {
      if (End()) return 0;
      const char c = Peek();
      ++i_;
      if (c == '[' && !End() && (Peek() == ':' || Peek() == '.' || Peek() == '=')) return 0;
      if (c != '\\') {
        b = static_cast<unsigned char>(c);
        return 1;
      }
      if (End()) return 0;
      const char e = Peek();
      ++i_;
      if (e == 'd' || e == 'D' || e == 's' || e == 'S' || e == 'w' || e == 'W') {
        set |= ClassOf(e);
        return 2;
      }
      if (const int ctl = ControlEscape(e); ctl >= 0) {
        b = static_cast<unsigned char>(ctl);
        return 1;
      }
      if (!IdentityEscape(e)) return 0;
      b = static_cast<unsigned char>(e);
      return 1;
    };
    while (true) {
      if (End()) return false;
      if (Peek() == ']') {
        ++i_;
        break;
      }
      unsigned char lo = 0;
      const int kind = member(lo);
      if (kind == 0) return false;
      if (kind == 2) {
        if (!End() && Peek() == '-' && i_ + 1 < p_.size() && p_[i_ + 1] != ']') return false;
        continue;
      }
      if (!End() && Peek() == '-' && i_ + 1 < p_.size() && p_[i_ + 1] != ']') {
        ++i_;
        unsigned char hi = 0;
        if (member(hi) != 1 || hi < lo) return false;
        add(lo, hi);
      } else {
        add(lo, lo);
      }
    }
    if (negate) set.flip();
    out.kind = Node::kClass;
    out.cls = AddClass(set);
    return true;
  }

  // A byte that Gen emits as one kByte (not a class of its two cases).
  bool PlainByte(const Node& n) const {
    return n.kind == Node::kByte && !(icase_ && Lower(n.byte) != Upper(n.byte));
  }

  std::size_t AddClass(const std::bitset<256>& s) {
    re_.classes_.push_back(s);
    return re_.classes_.size() - 1;
  }

  std::size_t Emit(FastRegex::Inst inst) {
    re_.prog_.push_back(inst);
    return re_.prog_.size() - 1;
  }
  std::uint32_t Here() const { return static_cast<std::uint32_t>(re_.prog_.size()); }

  bool Gen(const Node& n) {
    if (re_.prog_.size() > kMaxProgram) return false;
    switch (n.kind) {
      case Node::kEmpty: return true;
      case Node::kByte:
        if (icase_ && Lower(n.byte) != Upper(n.byte)) {
          std::bitset<256> s;
          s[Lower(n.byte)] = true;
          s[Upper(n.byte)] = true;
          Emit(FastRegex::Inst{Op::kClass, 0, 0, true, -1, static_cast<std::uint32_t>(AddClass(s)), 0});
        } else {
          Emit(FastRegex::Inst{Op::kByte, n.byte, 0, true, -1, 0, 0});
        }
        return true;
      case Node::kAny: Emit(FastRegex::Inst{Op::kAny, 0, 0, true, -1, 0, 0}); return true;
      case Node::kClass: Emit(FastRegex::Inst{Op::kClass, 0, 0, true, -1, static_cast<std::uint32_t>(n.cls), 0}); return true;
      case Node::kAssert: Emit(FastRegex::Inst{static_cast<Op>(n.op), 0, 0, true, -1, 0, 0}); return true;
      case Node::kSeq:
        for (std::size_t k = 0; k < n.kids.size();) {
          // A run of two or more plain bytes is one kLiteral, compared at once. No jump can land
          // inside the run: bytes emit none, and jumps land only at a kid's start.
          std::size_t end = k;
          while (end < n.kids.size() && PlainByte(n.kids[end])) ++end;
          if (end - k >= 2) {
            const auto at = static_cast<std::uint32_t>(re_.literals_.size());
            for (std::size_t b = k; b < end; ++b) re_.literals_.push_back(static_cast<char>(n.kids[b].byte));
            Emit(FastRegex::Inst{Op::kLiteral, 0, 0, true, -1, at, static_cast<std::uint32_t>(end - k)});
            k = end;
            continue;
          }
          if (!Gen(n.kids[k])) return false;
          ++k;
        }
        return true;
      case Node::kGroup:
        if (n.group >= 0) Emit(FastRegex::Inst{Op::kSave, 0, 0, true, -1, static_cast<std::uint32_t>(2 * n.group), 0});
        if (!Gen(n.kids[0])) return false;
        if (n.group >= 0) Emit(FastRegex::Inst{Op::kSave, 0, 0, true, -1, static_cast<std::uint32_t>(2 * n.group + 1), 0});
        return true;
      case Node::kAlt: {
        std::vector<std::size_t> exits;
        for (std::size_t k = 0; k < n.kids.size(); ++k) {
          if (k + 1 == n.kids.size()) {
            if (!Gen(n.kids[k])) return false;
            break;
          }
          const std::size_t split = Emit(FastRegex::Inst{Op::kSplit, 0, 0, true, -1, 0, 0});
          re_.prog_[split].x = Here();
          if (!Gen(n.kids[k])) return false;
          exits.push_back(Emit(FastRegex::Inst{Op::kJmp, 0, 0, true, -1, 0, 0}));
          re_.prog_[split].y = Here();
        }
        for (std::size_t e : exits) re_.prog_[e].x = Here();
        return true;
      }
      case Node::kRepeat: {
        const Node& body = n.kids[0];
        // As libstdc++ (unlike ECMAScript), captures inside a repeat keep their value from an
        // earlier iteration: no reset.
        auto iteration = [&]() { return Gen(body); };
        for (int k = 0; k < n.min; ++k) {
          if (!iteration()) return false;
        }
        if (n.max < 0 && (body.kind == Node::kByte || body.kind == Node::kAny ||
                          body.kind == Node::kClass)) {
          const std::size_t at = Here();
          if (!Gen(body)) return false;
          FastRegex::Inst& one = re_.prog_[at];
          one.what = one.op == Op::kByte ? 0 : one.op == Op::kAny ? 1 : 2;
          one.op = Op::kStar;
          one.greedy = n.greedy;
          return true;
        }
        if (n.max < 0) {
          const std::uint32_t loop = Here();
          const std::size_t split = Emit(FastRegex::Inst{Op::kSplit, 0, 0, true, -1, 0, 0});
          const std::uint32_t in = Here();
          if (!iteration()) return false;
          Emit(FastRegex::Inst{Op::kJmp, 0, 0, true, -1, loop, 0});
          const std::uint32_t out = Here();
          re_.prog_[split].x = n.greedy ? in : out;
          re_.prog_[split].y = n.greedy ? out : in;
          return true;
        }
        std::vector<std::size_t> splits;
        for (int k = n.min; k < n.max; ++k) {
          splits.push_back(Emit(FastRegex::Inst{Op::kSplit, 0, 0, true, -1, 0, 0}));
          re_.prog_[splits.back()].x = Here();  // the iteration (fixed below for lazy)
          if (!iteration()) return false;
        }
        const std::uint32_t out = Here();
        for (std::size_t s : splits) {
          const std::uint32_t in = re_.prog_[s].x;
          re_.prog_[s].x = n.greedy ? in : out;
          re_.prog_[s].y = n.greedy ? out : in;
        }
        return true;
      }
    }
    return false;
  }

  std::string_view p_;
  bool icase_;
  FastRegex& re_;
  std::size_t i_ = 0;
  int groups_ = 0;
};

std::optional<FastRegex> FastRegex::Compile(std::string_view pattern, bool icase) {
  FastRegex re;
  FastRegexCompiler c(pattern, icase, re);
  if (!c.Compile()) return std::nullopt;
  return re;
}

namespace {
// A backtracking point: resume at `pc` at `pos` (kind 0), or, for a kStar, at the next length
// still untried: greedy counts down from `pos` to `lo`, lazy up from `pos` to `hi`.
struct Frame {
  std::uint32_t pc;
  std::uint32_t kind;  // 0 alternative, 1 greedy star, 2 lazy star
  std::size_t pos;
  std::size_t bound;
  std::size_t trail;   // captures to undo
  std::uint32_t star;  // the kStar instruction
};
}  // namespace

std::size_t FastRegex::Candidate(const Inst& in, const unsigned char* data, std::size_t n,
                                 std::size_t lo, std::size_t hi, bool greedy) {
  constexpr std::size_t npos = static_cast<std::size_t>(-1);
  if (lo > hi) return npos;
  if (in.next < 0) return greedy ? hi : lo;
  const std::size_t top = std::min(hi, n == 0 ? 0 : n - 1);
  if (n == 0 || lo > top) return npos;
  const void* hit = greedy ? memrchr(data + lo, in.next, top - lo + 1)
                           : std::memchr(data + lo, in.next, top - lo + 1);
  return hit == nullptr ? npos : static_cast<std::size_t>(static_cast<const unsigned char*>(hit) - data);
}

FastRegex::Outcome FastRegex::Search(std::string_view text,
                                     std::vector<std::pair<std::size_t, std::size_t>>& groups) const {
  thread_local std::vector<Frame> stack;
  thread_local std::vector<std::pair<std::uint32_t, std::size_t>> trail;
  thread_local std::vector<std::size_t> caps;
  caps.assign(2 * groups_, kUnset);
  std::size_t budget = 100000 + 64 * text.size();
  const std::size_t n = text.size();
  const auto* data = reinterpret_cast<const unsigned char*>(text.data());
  for (std::size_t start = 0; start <= n; ++start) {
    if (anchored_ && start > 0) break;
    if (first_byte_ >= 0) {
      if (start >= n) break;
      const void* hit = std::memchr(data + start, first_byte_, n - start);
      if (hit == nullptr) break;
      start = static_cast<std::size_t>(static_cast<const unsigned char*>(hit) - data);
    }
    std::fill(caps.begin(), caps.end(), kUnset);
    stack.clear();
    trail.clear();
    std::uint32_t pc = 0;
    std::size_t pos = start;
    int result = -2;
    while (result == -2) {
      if (budget == 0) return Outcome::kGaveUp;
      --budget;
      const Inst& in = prog_[pc];
      bool ok = true;
      switch (in.op) {
        case Op::kByte:
          ok = pos < n && data[pos] == in.byte;
          ++pos, ++pc;
          break;
        case Op::kLiteral:
          ok = pos <= n && n - pos >= in.y && EqualBytes(data + pos, literals_.data() + in.x, in.y);
          pos += in.y, ++pc;
          break;
        case Op::kAny:
          ok = pos < n && data[pos] != '\n' && data[pos] != '\r';
          ++pos, ++pc;
          break;
        case Op::kClass:
          ok = pos < n && classes_[in.x][data[pos]];
          ++pos, ++pc;
          break;
        case Op::kStar: {
          // The run of bytes it may take, by kind, in a loop of its own (not a call a byte).
          std::size_t end = pos;
          if (in.what == 0) {
            while (end < n && data[end] == in.byte) ++end;
          } else if (in.what == 1) {
            // `.`: up to the first CR or LF, found by memchr (rarely present at all).
            const void* lf = pos < n ? std::memchr(data + pos, '\n', n - pos) : nullptr;
            const std::size_t stop =
                lf == nullptr ? n : static_cast<std::size_t>(static_cast<const unsigned char*>(lf) - data);
            const void* cr = pos < stop ? std::memchr(data + pos, '\r', stop - pos) : nullptr;
            end = cr == nullptr ? stop : static_cast<std::size_t>(static_cast<const unsigned char*>(cr) - data);
          } else {
            const std::bitset<256>& cls = classes_[in.x];
            while (end < n && cls[data[end]]) ++end;
          }
          if (in.possessive) {
            ok = end < n && data[end] == static_cast<unsigned char>(in.next);
            pos = end;
            ++pc;
            break;
          }
          const std::size_t c = Candidate(in, data, n, pos, end, in.greedy);
          if (c == kUnset) {
            ok = false;
            break;
          }
          if (in.greedy && c > pos) stack.push_back({pc + 1, 1, c - 1, pos, trail.size(), pc});
          if (!in.greedy && c < end) stack.push_back({pc + 1, 2, c + 1, end, trail.size(), pc});
          pos = c;
          ++pc;
          break;
        }
        case Op::kSplit:
          stack.push_back({in.y, 0, pos, 0, trail.size(), 0});
          pc = in.x;
          break;
        case Op::kJmp:
          pc = in.x;
          break;
        case Op::kSave:
          // Undone when a backtracking frame pushed before it is resumed; with none, never.
          if (!stack.empty()) trail.emplace_back(in.x, caps[in.x]);
          caps[in.x] = pos;
          ++pc;
          break;
        case Op::kBol:
          ok = pos == 0;
          ++pc;
          break;
        case Op::kEol:
          ok = pos == n;
          ++pc;
          break;
        case Op::kWordB:
        case Op::kNotWordB: {
          const bool before = pos > 0 && IsWord(data[pos - 1]);
          const bool after = pos < n && IsWord(data[pos]);
          ok = (before != after) == (in.op == Op::kWordB);
          ++pc;
          break;
        }
        case Op::kMatch:
          result = 1;
          continue;
      }
      while (!ok) {
        if (stack.empty()) {
          result = 0;
          break;
        }
        Frame& f = stack.back();
        while (trail.size() > f.trail) {
          caps[trail.back().first] = trail.back().second;
          trail.pop_back();
        }
        pc = f.pc;
        if (f.kind == 0) {
          pos = f.pos;
          stack.pop_back();
          ok = true;
          break;
        }
        const bool greedy = f.kind == 1;
        const std::size_t c = greedy ? Candidate(prog_[f.star], data, n, f.bound, f.pos, true)
                                     : Candidate(prog_[f.star], data, n, f.pos, f.bound, false);
        if (c == kUnset) {
          stack.pop_back();
          continue;
        }
        pos = c;
        if (greedy && c > f.bound) {
          f.pos = c - 1;
        } else if (!greedy && c < f.bound) {
          f.pos = c + 1;
        } else {
          stack.pop_back();
        }
        ok = true;
      }
    }
    if (result == 1) {
      groups.assign(groups_, {kUnset, kUnset});
      for (std::size_t g = 0; g < groups_; ++g) {
        if (caps[2 * g] != kUnset && caps[2 * g + 1] != kUnset) {
          groups[g] = {caps[2 * g], caps[2 * g + 1]};
        }
      }
      return Outcome::kMatch;
    }
    if (first_byte_ >= 0 && start >= n) break;
  }
  return Outcome::kNoMatch;
}

}  // namespace isms
