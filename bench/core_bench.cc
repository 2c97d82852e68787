// Throughput of the contract's arithmetic: CVSS scoring and working-day addition.
#include <benchmark/benchmark.h>

#include <array>
#include <string_view>

#include "core/calendar.h"
#include "core/cvss.h"

namespace isms {
namespace {

// A mix of the versions met in real scanner output, in specification and in shuffled order.
constexpr std::array<std::string_view, 8> kVectors = {
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N",
    "CVSS:3.1/AV:L/AC:H/PR:L/UI:R/S:C/C:L/I:L/A:N/E:P/RL:O/RC:C/CR:H/MAV:N",
    "AV:N/AC:L/Au:N/C:P/I:P/A:P",
    "AV:N/AC:M/Au:S/C:C/I:C/A:C/E:POC/RL:OF/RC:C/CDP:H/TD:M/CR:H/IR:H/AR:H",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
    "CVSS:4.0/AV:L/AC:H/AT:P/PR:L/UI:A/VC:L/VI:N/VA:N/SC:H/SI:L/SA:N/E:U/CR:M",
    "CVSS:4.0/VC:H/VI:L/VA:N/SC:N/SI:N/SA:N/AV:N/AC:L/AT:N/PR:L/UI:N",
};

void BM_ScoreCvssMixed(benchmark::State& state) {
  size_t i = 0;
  for (auto _ : state) {
    auto r = ScoreCvss(kVectors[i++ % kVectors.size()]);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ScoreCvssMixed);

void BM_ScoreCvssVersion(benchmark::State& state) {
  std::string_view v = kVectors[static_cast<size_t>(state.range(0))];
  for (auto _ : state) {
    auto r = ScoreCvss(v);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(v.substr(0, 8)));
}
BENCHMARK(BM_ScoreCvssVersion)->Arg(0)->Arg(3)->Arg(5);

void BM_AddWorkingDays(benchmark::State& state) {
  const Calendar calendar;
  const int n = static_cast<int>(state.range(0));
  int day = 0;
  for (auto _ : state) {
    Date start =
        FromDays(ToDays(Date{std::chrono::year(2026), std::chrono::January, std::chrono::day(1)}) +
                 std::chrono::days(day++ % 3650));
    benchmark::DoNotOptimize(calendar.AddWorkingDays(start, n));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AddWorkingDays)->Arg(1)->Arg(20)->Arg(60);

void BM_IsWorkingDay(benchmark::State& state) {
  const Calendar calendar;
  int day = 0;
  for (auto _ : state) {
    Date d =
        FromDays(ToDays(Date{std::chrono::year(2000), std::chrono::January, std::chrono::day(1)}) +
                 std::chrono::days(day++ % 36500));
    benchmark::DoNotOptimize(calendar.IsWorkingDay(d));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IsWorkingDay);

void BM_ConstructCalendar(benchmark::State& state) {
  for (auto _ : state) {
    Calendar calendar;
    benchmark::DoNotOptimize(calendar);
  }
}
BENCHMARK(BM_ConstructCalendar);

}  // namespace
}  // namespace isms

BENCHMARK_MAIN();
