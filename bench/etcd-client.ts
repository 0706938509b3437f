// tartan's etcd client (src/datastore/etcd/, decision 0023) against etcd3 (the npm client tartan
// used before, now a dev dependency), same run, same etcd: each sample is a fresh process that
// loads the client, opens it and lists every Pod, as an agent's first sync does. Both sides run
// from source under the same bun and talk TLS with client certificates (as the lab's etcd asks),
// pages of 500 keys on both. Prints per side: load+open, first list, second list, process CPU and
// max RSS, as p50s and the ratio tartan/etcd3.
//
//   npm run bench:etcd-client -- [--pods 10000] [--rounds 6]
//
// Nothing but the measured client is imported before a sample's clock starts (etcd3 and the
// harness are loaded dynamically). Runs as root; it makes a private network namespace for etcd (tt-t-etcdb-PID), re-runs itself
// inside and removes it afterwards.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};

interface Sample {
  openMs: number;
  listMs: number;
  list2Ms: number;
  n: number;
  cpuMs: number;
  maxRssMb: number;
}

/** Child: one process, one client. */
async function child(which: string, endpoint: string, ca: string, cert: string, key: string): Promise<void> {
  const t0 = performance.now();
  let list: () => Promise<number>;
  let close: () => Promise<void>;
  if (which === "tartan") {
    const { EtcdDatastore } = await import("../src/datastore/etcd/etcd-datastore.ts");
    const ds = new EtcdDatastore({
      endpoints: [endpoint],
      tls: { caFile: ca, certFile: cert, keyFile: key },
    });
    list = async () => (await ds.list("Pod")).items.length;
    close = () => ds.close();
  } else {
    const { labEtcd3: make } = await import("./lab/lab-etcd.ts");
    const c = make({
      type: "etcd",
      endpoints: [endpoint],
      tls: { caFile: ca, certFile: cert, keyFile: key },
    });
    // The list as tartan's adapter did it with etcd3 (pages of 500 at one revision, JSON values).
    list = async () => {
      let n = 0;
      let from = Buffer.from("/tartan/Pod/");
      let revision: string | undefined;
      for (;;) {
        const res = await c.kv.range({
          key: from,
          range_end: Buffer.from("/tartan/Pod0"),
          limit: 500,
          ...(revision ? { revision } : {}),
        });
        revision ??= res.header.revision;
        for (const kv of res.kvs) {
          JSON.parse(kv.value.toString());
          n++;
        }
        const last = res.kvs.at(-1);
        if (!res.more || !last) return n;
        from = Buffer.concat([last.key, Buffer.from([0])]);
      }
    };
    close = async () => c.close();
  }
  const t1 = performance.now();
  const n = await list();
  const t2 = performance.now();
  await list();
  const t3 = performance.now();
  await close();
  const u = process.resourceUsage();
  const s: Sample = {
    openMs: t1 - t0,
    listMs: t2 - t1,
    list2Ms: t3 - t2,
    n,
    cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000,
    maxRssMb: u.maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(s)}\n`);
}

function pod(i: number): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `p${i}`,
      namespace: `ns${i % 50}`,
      uid: crypto.randomUUID(),
      creationTimestamp: "2026-12-05T00:00:00Z",
      labels: { app: `a${i % 100}`, tier: "web", "pod-template-hash": "abcdef1234" },
    },
    spec: {
      nodeName: `node-${i % 100}`,
      containers: [
        { name: "c", image: "registry.example/app:1.2.3", ports: [{ name: "http", containerPort: 8080 }] },
      ],
    },
    status: { podIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, phase: "Running" },
  });
}

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

/** Inside the private namespace: etcd with TLS, the pods, alternating samples. */
async function inside(): Promise<void> {
  const { startEtcd } = await import("../test/harness/etcd.ts");
  const { makeLabCerts } = await import("../src/lab/lab-certs.ts");
  const { labEtcd3 } = await import("./lab/lab-etcd.ts");
  const pods = Number(opt("--pods", "10000"));
  const rounds = Number(opt("--rounds", "6"));
  const dir = mkdtempSync(join(tmpdir(), "tt-etcdb-"));
  const certs = await makeLabCerts(dir, "b", ["127.0.0.1"]);
  const etcd = await startEtcd({
    tls: {
      caFile: certs.caFile,
      certFile: certs.serverCertFile,
      keyFile: certs.serverKeyFile,
      clientCertAuth: true,
    },
  });
  try {
    const c = labEtcd3({ type: "etcd", endpoints: [etcd.endpoint], tls: certs.client });
    for (let i = 0; i < pods; i += 100) {
      const ops = Array.from({ length: Math.min(100, pods - i) }, (_, j) => ({
        request_put: {
          key: Buffer.from(`/tartan/Pod/ns${(i + j) % 50}/p${i + j}`),
          value: Buffer.from(pod(i + j)),
        },
      }));
      await c.kv.txn({ compare: [], success: ops });
    }
    c.close();
    const args = [etcd.endpoint, certs.client.caFile, certs.client.certFile!, certs.client.keyFile!];
    const samples: Record<string, Sample[]> = { tartan: [], etcd3: [] };
    for (let r = 0; r < rounds; r++) {
      for (const which of r % 2 ? ["etcd3", "tartan"] : ["tartan", "etcd3"]) {
        const p = Bun.spawnSync([process.execPath, import.meta.path, "--child", which, ...args], {
          stdout: "pipe",
          stderr: "pipe",
        });
        if (p.exitCode !== 0) throw new Error(`${which} sample failed: ${p.stderr.toString()}`);
        const s = JSON.parse(p.stdout.toString()) as Sample;
        if (s.n !== pods) throw new Error(`${which} listed ${s.n} pods, not ${pods}`);
        samples[which]!.push(s);
      }
    }
    const row = (k: keyof Sample) => {
      const t = p50(samples.tartan!.map((s) => s[k]));
      const e = p50(samples.etcd3!.map((s) => s[k]));
      return `${k.padEnd(9)} tartan ${t.toFixed(1).padStart(7)}  etcd3 ${e.toFixed(1).padStart(7)}  ratio ${(t / e).toFixed(2)}`;
    };
    console.log(`etcd client: ${pods} pods over TLS, ${rounds} processes per side, p50 (ms, MB)`);
    for (const k of ["openMs", "listMs", "list2Ms", "cpuMs", "maxRssMb"] as const) console.log(`  ${row(k)}`);
  } finally {
    await etcd.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (argv[0] === "--child") {
  await child(argv[1]!, argv[2]!, argv[3]!, argv[4]!, argv[5]!);
} else if (argv.includes("--inside")) {
  await inside();
} else {
  const ns = `tt-t-etcdb-${process.pid}`;
  const ip = (...a: string[]) => Bun.spawnSync(["ip", ...a], { stdout: "inherit", stderr: "inherit" });
  if (ip("netns", "add", ns).exitCode !== 0) throw new Error(`cannot create the namespace ${ns} (root?)`);
  try {
    ip("-n", ns, "link", "set", "lo", "up");
    const p = Bun.spawnSync(
      ["ip", "netns", "exec", ns, process.execPath, import.meta.path, "--inside", ...argv],
      {
        stdout: "inherit",
        stderr: "inherit",
      },
    );
    process.exitCode = p.exitCode ?? 1;
  } finally {
    ip("netns", "del", ns);
  }
}
