"""The shards section of the benchmark: loads and drains over 1, 2 and 4 shards, classic and quorum
queues, on the one node and on a local 3-node cluster, with the broker's CPU per item.

Every cell is our loader or 5 of our processors (no baseline tool shards a Job); the comparison is
N shards against 1 shard in the same run, configurations alternating. A rate is items over the
wall time of the whole command (start and connect included: more shards declare more queues).
A load is timed until the loader exits (it exits once every item is confirmed), a drain until the
shards' ready counts add up to 0, as the drain rows of the main table. The broker's CPU is the
utime + stime of every node's `beam.smp` over the same window, divided by the items."""
import os
import statistics
import subprocess
import time
import uuid

import pika


def node_pids(ports):
    """The beam.smp processes of the brokers listening on `ports` (scripts/broker exports
    RABBITMQ_NODE_PORT into each node's environment)."""
    wanted = {str(p) for p in ports}
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if open(f"/proc/{entry}/comm").read().strip() != "beam.smp":
                continue
            env = open(f"/proc/{entry}/environ", "rb").read().split(b"\0")
        except OSError:
            continue
        for var in env:
            if var.startswith(b"RABBITMQ_NODE_PORT=") and var.split(b"=", 1)[1].decode() in wanted:
                pids.append(int(entry))
    if len(pids) < len(wanted):
        raise SystemExit(f"bench: found {len(pids)} broker processes for ports {sorted(wanted)}; is every node running?")
    return pids


def cpu_of(pids):
    total = 0.0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class Site:
    """Where a Job runs: one node, or a cluster's nodes (the tools get every node's URL; the
    processors spread over them by JOB_COMPLETION_INDEX, as in an Indexed Job)."""

    def __init__(self, name, host, ports):
        self.name, self.host, self.ports = name, host, ports
        self.pids = node_pids(ports)

    def urls(self):
        return ",".join(f"amqp://guest:guest@{self.host}:{p}/%2f" for p in self.ports)

    def channel(self):
        connection = pika.BlockingConnection(pika.ConnectionParameters(host=self.host, port=self.ports[0]))
        return connection, connection.channel()


class ShardBench:
    def __init__(self, bench):
        self.bench = bench
        self.n = 2000 if bench.quick else 50_000
        # --quick (the test suite) proves the grid works with its two ends; a full run has all three.
        self.counts = (1, 4) if bench.quick else (1, 2, 4)
        self.cluster_started = False

    # -- the cluster ---------------------------------------------------------------------------

    def cluster(self):
        """A 3-node cluster: the one in BENCH_CLUSTER_PORTS (the test suite's), else our own
        (scripts/cluster as wq-bench-c on 5741-5743, stopped afterwards)."""
        given = os.environ.get("BENCH_CLUSTER_PORTS", "")
        if given:
            return [int(p) for p in given.split(",")]
        env = dict(os.environ, CLUSTER_NAME="wq-bench-c", CLUSTER_PORT="5740")
        print("shards: starting a 3-node cluster (wq-bench-c, 5741-5743)", flush=True)
        subprocess.run([os.path.join(self.bench_root(), "scripts/cluster"), "start"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        self.cluster_started = True
        return [5741, 5742, 5743]

    def stop_cluster(self):
        if self.cluster_started and not os.environ.get("KEEP_BROKER"):
            env = dict(os.environ, CLUSTER_NAME="wq-bench-c", CLUSTER_PORT="5740")
            subprocess.run([os.path.join(self.bench_root(), "scripts/cluster"), "stop"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def bench_root(self):
        return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    # -- one load and one drain ----------------------------------------------------------------

    def names(self, queue, shards):
        return [queue] if shards == 1 else [f"{queue}.{i}" for i in range(shards)]

    def env(self, site, queue, qtype, shards, index=None):
        env = dict(os.environ, WORK_QUEUE_URL=site.urls(), WORK_QUEUE_NAME=queue, WORK_QUEUE_TYPE=qtype,
                   WORK_QUEUE_SHARDS=str(shards))
        for key in ("WORK_QUEUE_HOST", "WORK_QUEUE_PORT"):
            env.pop(key, None)
        if index is not None:
            env["JOB_COMPLETION_INDEX"] = str(index)
        return env

    def ready(self, channel, queues):
        return sum(channel.queue_declare(queue=q, passive=True).method.message_count for q in queues)

    def once(self, site, qtype, shards):
        """One load and one drain of `n` items; returns (load rate, load broker s, drain rate, drain broker s)."""
        queue = f"bench-shards-{uuid.uuid4().hex[:8]}"
        queues = self.names(queue, shards)
        bin = self.bench.bin
        cpu = cpu_of(site.pids)
        started = time.monotonic()
        load = subprocess.run([f"{bin}/loader", "--count", str(self.n), "--quiet"], env=self.env(site, queue, qtype, shards),
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        load_seconds = time.monotonic() - started
        load_cpu = cpu_of(site.pids) - cpu
        if load.returncode != 0:
            raise SystemExit(f"bench: loader --shards {shards} exited {load.returncode}: {load.stderr.decode(errors='replace')[-400:]}")
        connection, channel = site.channel()
        try:
            held = self.ready(channel, queues)
            if held != self.n:
                raise SystemExit(f"bench: the {shards} shards hold {held} items after loading {self.n}")
            cpu = cpu_of(site.pids)
            started = time.monotonic()
            procs = [subprocess.Popen([f"{bin}/processor", "--quiet", "--prefetch", "100"],
                                      env=self.env(site, queue, qtype, shards, index=i), stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for i in range(5)]
            while self.ready(channel, queues) > 0:
                if any(p.poll() is not None and p.returncode != 0 for p in procs):
                    break
                time.sleep(0.005)
            drain_seconds = time.monotonic() - started
            drain_cpu = cpu_of(site.pids) - cpu
            errors = []
            for p in procs:
                _, err = p.communicate()
                if p.returncode != 0:
                    errors.append(f"processor exited {p.returncode}: {err.decode(errors='replace').strip()[-300:]}")
            if errors:
                raise SystemExit("bench: " + "; ".join(errors))
            left = self.ready(channel, queues)
            for q in queues + [queue + ".failed", queue + ".stopping"]:
                channel.queue_delete(queue=q)
        finally:
            connection.close()
        if left:
            raise SystemExit(f"bench: {left} of {self.n} items left in the shards")
        return self.n / load_seconds, load_cpu, self.n / drain_seconds, drain_cpu

    # -- the section ---------------------------------------------------------------------------

    def run(self):
        print(f"shards: {self.n} items, 1/2/4 shards, classic and quorum, one node and a 3-node cluster", flush=True)
        lines = ["| where | queue type | shards | load items/s | vs 1 shard | broker CPU per item | "
                 "drain items/s (5 processors) | vs 1 shard | broker CPU per item |",
                 "|---|---|---|---|---|---|---|---|---|"]
        try:
            sites = [Site("one node", self.bench.host, [self.bench.port])]
            sites.append(Site("3-node cluster", self.bench.host, self.cluster()))
            for site in sites:
                for qtype in ("classic", "quorum"):
                    results = {s: [] for s in self.counts}
                    for _ in range(self.bench.runs):
                        for shards in self.counts:
                            results[shards].append(self.once(site, qtype, shards))
                    lines += self.rows(site, qtype, results)
        finally:
            self.stop_cluster()
        self.bench.tables.append(("Shards", lines))

    def rows(self, site, qtype, results):
        def med(values):
            return statistics.median(values)

        def span(values):
            lo, hi = min(values), max(values)
            return f"{med(values):,.0f} ({lo:,.0f}-{hi:,.0f})"

        base_load = med([r[0] for r in results[1]])
        base_drain = med([r[2] for r in results[1]])
        out = []
        for shards, runs in results.items():
            loads, drains = [r[0] for r in runs], [r[2] for r in runs]
            load_us = med([r[1] for r in runs]) / self.n * 1e6
            drain_us = med([r[3] for r in runs]) / self.n * 1e6
            out.append(f"| {site.name} | {qtype} | {shards} | {span(loads)} | {med(loads) / base_load:.2f}x | {load_us:.0f} µs | "
                       f"{span(drains)} | {med(drains) / base_drain:.2f}x | {drain_us:.0f} µs |")
            print(f"  {site.name}, {qtype}, {shards} shard(s): load {med(loads):,.0f}/s ({load_us:.0f} µs broker/item), "
                  f"drain {med(drains):,.0f}/s ({drain_us:.0f} µs)", flush=True)
        return out
