// Command-line options of bench/cni-latency.ts.

export interface BenchArgs {
  /** Sequential ADD+DEL pairs per side, per configuration. */
  iterations: number;
  /** Pods started at once in the concurrent scenario. */
  concurrency: number;
  /** Concurrent rounds per side; each round is `concurrency` ADDs then `concurrency` DELs. */
  rounds: number;
  /** Uncounted ADD+DEL pairs per side before measuring (bridge creation, page cache, sqlite). */
  warmup: number;
  json: boolean;
  /** Run the reference plugin on both sides: the harness must then report ratios near 1.0. */
  selfCheck: boolean;
  /**
   * Network states measured: `true` keeps one uncounted pod attached to each network for the whole
   * run (a node's steady state: pods come and go while others keep running); `false` is an empty
   * network, where every ADD is the first pod and every DEL the last (per-network setup and
   * teardown each time).
   */
  residents: boolean[];
  /** ipMasq settings measured, the same on both sides. */
  ipMasqs: boolean[];
  /** VERSION runs per program for the start-up floor (0: skip it). */
  floorRuns: number;
  /** The tartan plugin executable (its directory is CNI_PATH, where `tartan-ipam` lives too). */
  tartan: string;
}

const USAGE = `usage: bun bench/cni-latency.ts [--iterations N | --long] [--concurrency C] [--rounds R]
                                  [--warmup W] [--ipmasq on|off|both] [--state resident|empty|both]
                                  [--floor-runs N] [--json] [--self-check] [--tartan PATH]
  --iterations N   sequential ADD+DEL pairs per plugin and configuration (default 50: all four
                   configurations in a few minutes)
  --long           --iterations 200 (steadier p99s; ~4x as long)
  --concurrency C  pods started at once in the concurrent scenario (default 16)
  --rounds R       concurrent rounds per plugin (default: enough for >= 2N samples, at least 3)
  --warmup W       uncounted ADD+DEL pairs per plugin first (default 3)
  --ipmasq X       ipMasq on both sides: on, off or both (default both)
  --state X        resident: one uncounted pod stays attached to each network; empty: every ADD
                   is the network's first pod, every DEL its last; both (default)
  --empty          same as --state empty
  --floor-runs N   VERSION runs per program for the start-up floor (default 40; 0 skips it)
  --json           print the results as JSON instead of tables
  --self-check     reference plugin on both sides (validates the harness: ratios ~1.0)
  --tartan PATH    tartan plugin executable (default dist/cni/tartan)`;

export function parseArgs(argv: readonly string[], defaultTartan: string): BenchArgs {
  const a: BenchArgs = {
    iterations: 50,
    concurrency: 16,
    rounds: 0,
    warmup: 3,
    json: false,
    selfCheck: false,
    residents: [true, false],
    ipMasqs: [true, false],
    floorRuns: 40,
    tartan: defaultTartan,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) fail(`${k} needs a value`);
      return v;
    };
    const int = (min: number): number => {
      const v = val();
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) fail(`${k} must be an integer >= ${min}, got ${v}`);
      return n;
    };
    if (k === "--iterations") a.iterations = int(1);
    else if (k === "--concurrency") a.concurrency = int(1);
    else if (k === "--rounds") a.rounds = int(1);
    else if (k === "--warmup") a.warmup = int(0);
    else if (k === "--json") a.json = true;
    else if (k === "--self-check") a.selfCheck = true;
    else if (k === "--long") a.iterations = 200;
    else if (k === "--empty") a.residents = [false];
    else if (k === "--state") {
      const v = val();
      const m: Record<string, boolean[]> = { resident: [true], empty: [false], both: [true, false] };
      if (!m[v]) fail(`--state must be resident, empty or both, got ${v}`);
      a.residents = m[v]!;
    } else if (k === "--ipmasq") {
      const v = val();
      const m: Record<string, boolean[]> = { on: [true], off: [false], both: [true, false] };
      if (!m[v]) fail(`--ipmasq must be on, off or both, got ${v}`);
      a.ipMasqs = m[v]!;
    } else if (k === "--floor-runs") a.floorRuns = int(0);
    else if (k === "--tartan") a.tartan = val();
    else if (k === "-h" || k === "--help") {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown option ${k}`);
  }
  // p99 of a concurrent round is the tail of the tail: twice the sequential sample count steadies it.
  if (a.rounds === 0) a.rounds = Math.max(3, Math.ceil((2 * a.iterations) / a.concurrency));
  return a;
}

function fail(msg: string): never {
  console.error(`cni-latency: ${msg}\n${USAGE}`);
  process.exit(2);
}
