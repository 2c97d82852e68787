// Scores the vectors of bench/core_bench.cc (BM_ScoreCvssMixed) with a peer implementation, the
// npm package ae-cvss-calculator, in-process, and prints vectors scored per second.
// Run by scripts/bench-cvss-peer.sh, which installs the package into a temporary folder.
import calc from 'ae-cvss-calculator';

// The peer's classes per version, chosen by prefix as a caller would.
function parse(v) {
  if (v.startsWith('CVSS:4.0/')) return new calc.Cvss4P0(v);
  if (v.startsWith('CVSS:3.1/')) return new calc.Cvss3P1(v);
  if (v.startsWith('CVSS:3.0/')) return new calc.Cvss3P0(v);
  return new calc.Cvss2(v);
}

const vectors = [
  'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
  'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N',
  'CVSS:3.1/AV:L/AC:H/PR:L/UI:R/S:C/C:L/I:L/A:N/E:P/RL:O/RC:C/CR:H/MAV:N',
  'AV:N/AC:L/Au:N/C:P/I:P/A:P',
  'AV:N/AC:M/Au:S/C:C/I:C/A:C/E:POC/RL:OF/RC:C/CDP:H/TD:M/CR:H/IR:H/AR:H',
  'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N',
  'CVSS:4.0/AV:L/AC:H/AT:P/PR:L/UI:A/VC:L/VI:N/VA:N/SC:H/SI:L/SA:N/E:U/CR:M',
  'CVSS:4.0/VC:H/VI:L/VA:N/SC:N/SI:N/SA:N/AV:N/AC:L/AT:N/PR:L/UI:N',
];

function run(n) {
  let sink = 0;
  for (let i = 0; i < n; ++i) {
    sink += parse(vectors[i % vectors.length]).calculateScores().overall;
  }
  return sink;
}

run(20000);  // warm up the JIT
for (const n of [200000]) {
  const t0 = process.hrtime.bigint();
  run(n);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`ae-cvss-calculator: ${n} mixed vectors in ${s.toFixed(2)} s = ` +
              `${Math.round(n / s)} vectors/s`);
}
