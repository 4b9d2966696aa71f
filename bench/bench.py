#!/usr/bin/env python3
"""Runs every benchmark side by side with its baseline and prints a markdown table.

Started by bench/run, which builds the release binaries, installs the baselines (pika in a
virtual environment, amqp-tools from Debian) and provides a broker. Each figure is the median of
3 runs (min-max in brackets), ours and the baseline alternating in the same loop; the result is
the ratio. Rates are items per second over the wall time of the whole command(s): process start,
connecting and (for drains) each tool's own way of noticing the end are included."""
import argparse
import datetime
import http.client
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import pika

from shards import ShardBench

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
# The broker's port, set by main(): broker_pid() finds the broker by it.
BENCH_PORT = []


class Bench:
    def __init__(self, args):
        self.args = args
        self.bin = args.bin
        self.host, self.port = "127.0.0.1", args.port
        self.quick = args.quick
        # --quick proves the script works (the suite runs it); medians of 3 are for real figures.
        self.runs = 1 if self.quick else 3
        # "classic" or "quorum": the type of the queues the loads and drains run on.
        self.qtype = "classic"
        self.python = sys.executable
        self.rows = []
        self.fixed = []
        # Unconfirmed baselines whose publishes were not all stored (their rate is over the stored).
        self.lost = []
        # (title, markdown lines): tables of their own after the main one (the shards' grid).
        self.tables = []

    # -- helpers -----------------------------------------------------------------------------

    def env(self, queue, **extra):
        env = dict(os.environ)
        env.update(WORK_QUEUE_HOST=self.host, WORK_QUEUE_PORT=str(self.port), WORK_QUEUE_NAME=queue,
                   WORK_QUEUE_TYPE=self.qtype)
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def queue(self, label):
        return f"bench-{label}-{uuid.uuid4().hex[:8]}"

    def delete(self, *queues):
        connection = pika.BlockingConnection(pika.ConnectionParameters(host=self.host, port=self.port))
        channel = connection.channel()
        for queue in queues:
            channel.queue_delete(queue=queue)
            channel.queue_delete(queue=queue + ".failed")
            channel.queue_delete(queue=queue + ".stopping")
        connection.close()

    def depth(self, queue):
        connection = pika.BlockingConnection(pika.ConnectionParameters(host=self.host, port=self.port))
        try:
            return connection.channel().queue_declare(queue=queue, passive=True).method.message_count
        finally:
            connection.close()

    def run_all(self, commands, env=None, stdin=None):
        """Starts every command at once, waits for all; returns the wall time. A failure stops the benchmark."""
        started = time.monotonic()
        procs = [
            subprocess.Popen(c, env=env, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for c in commands
        ]
        errors = []
        for p in procs:
            _, err = p.communicate(stdin)
            if p.returncode != 0:
                errors.append(f"{p.args[0]} exited {p.returncode}: {err.decode(errors='replace').strip()[-400:]}")
        elapsed = time.monotonic() - started
        if errors:
            raise SystemExit("bench: " + "; ".join(errors))
        return elapsed

    def load(self, queue, count):
        self.run_all([[f"{self.bin}/loader", "--count", str(count), "--quiet"]], env=self.env(queue))

    @staticmethod
    def summary(values):
        return statistics.median(values), min(values), max(values)

    def compare(self, name, ours_label, base_label, n_ours, n_base, ours, base, target=None):
        """`ours(count)` and `base(count)` run the work on `count` items and return wall seconds.
        Each is first timed on 1 item (start, connect, end detection: the fixed cost), then on its
        count, alternating; the rate is (count - 1) / (wall - fixed)."""
        fixed_o = statistics.median(ours(1) for _ in range(self.runs))
        fixed_b = statistics.median(base(1) for _ in range(self.runs))
        o, b = [], []
        for _ in range(self.runs):
            o.append((n_ours - 1) / max(ours(n_ours) - fixed_o, 1e-3))
            b.append((n_base - 1) / max(base(n_base) - fixed_b, 1e-3))
        self.fixed.append((ours_label, fixed_o))
        self.fixed.append((base_label, fixed_b))
        self.add(name, ours_label, base_label, o, b, target)
        return o, b

    def add(self, name, ours_label, base_label, o, b, target, higher_is_better=True, reason=None):
        """A row: `o` against `b`; `reason` follows a missed target in the met column."""
        om, bm = statistics.median(o), statistics.median(b)
        ratio = om / bm if bm else float("inf")
        met = ""
        if target is not None:
            met = "yes" if (ratio >= target if higher_is_better else ratio <= target) else "**no**"
            if met != "yes" and reason:
                met += f": {reason}"
        self.rows.append((name, ours_label, fmt(o), base_label, fmt(b), f"{ratio:.2f}x", target_text(target, higher_is_better), met))
        print(f"  {name}: {fmt(o)} vs {fmt(b)} -> {ratio:.2f}x", flush=True)

    # -- benchmarks --------------------------------------------------------------------------

    def drained(self, label, commands, count, env_extra=None):
        """Loads `count` items into a fresh queue, starts `commands(queue)` at once and returns the
        seconds until the queue's ready count is 0 (polled every 5 ms): the same end for every
        tool, whatever its own way of noticing it. Then waits for the commands to exit, checks
        that nothing is left and deletes the queue."""
        q = self.queue(label)
        self.load(q, count)
        connection = pika.BlockingConnection(pika.ConnectionParameters(host=self.host, port=self.port))
        channel = connection.channel()
        started = time.monotonic()
        procs = [subprocess.Popen(c, env=self.env(q, **(env_extra or {})), stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for c in commands(q)]
        while channel.queue_declare(queue=q, passive=True).method.message_count > 0:
            if any(p.poll() is not None and p.returncode != 0 for p in procs):
                break
            time.sleep(0.005)
        elapsed = time.monotonic() - started
        connection.close()
        errors = []
        for p in procs:
            _, err = p.communicate()
            if p.returncode != 0:
                errors.append(f"{p.args[0]} exited {p.returncode}: {err.decode(errors='replace').strip()[-400:]}")
        if errors:
            raise SystemExit("bench: " + "; ".join(errors))
        left = self.depth(q)
        self.delete(q)
        if left:
            raise SystemExit(f"bench: {label} left {left} of {count} items")
        return elapsed

    def loads(self):
        n = 2000 if self.quick else 50_000
        n_confirm = n // 10
        print(f"load: {n} items (pika with confirms: {n_confirm})", flush=True)

        def stored(q, count, started, confirmed=True):
            """Seconds from `started` until the queue holds `count` items (unconfirmed publishers
            exit before the broker has stored everything); fails after 30 s. An unconfirmed
            publisher has no promise that every item is stored: once its queue has not grown for
            3 s, the figure is over the items stored (noted under the table), not a failure."""
            last, grew = -1, started
            while True:
                got = self.depth(q)
                now = time.monotonic()
                if got >= count:
                    self.delete(q)
                    return now - started
                if got != last:
                    last, grew = got, now
                elif not confirmed and got > 0 and now - grew > 3:
                    self.delete(q)
                    self.lost.append(f"{q}: {count - got} of {count} unconfirmed publishes never stored")
                    print(f"  {self.lost[-1]}", flush=True)
                    # The same rate over the items that were stored: their time scaled to `count`.
                    return (grew - started) * count / got
                if now - started > 30:
                    self.delete(q)
                    raise SystemExit(f"bench: {q} holds {got} items, expected {count}")
                time.sleep(0.005)

        def ours(count):
            q = self.queue("load")
            started = time.monotonic()
            self.run_all([[f"{self.bin}/loader", "--count", str(count), "--quiet"]], env=self.env(q))
            return stored(q, count, started)

        def pika_load(confirm):
            def run(count):
                q = self.queue("pika-load")
                cmd = [self.python, f"{BENCH}/pika_loader.py", self.host, str(self.port), q, str(count), "--type", self.qtype]
                started = time.monotonic()
                self.run_all([cmd + (["--confirm"] if confirm else [])])
                return stored(q, count, started, confirmed=confirm)
            return run

        def amqp_publish(count):
            q = self.queue("amqp-publish")
            pika_declare(self.host, self.port, q, self.qtype)
            lines = "".join(f"{i}\n" for i in range(count)).encode()
            started = time.monotonic()
            self.run_all([["amqp-publish", "-s", self.host, "--port", str(self.port), "-r", q, "-p", "-l"]], stdin=lines)
            return stored(q, count, started, confirmed=False)

        label = f"loader --count {n} (confirmed)"
        name = "load, persistent" + self.on_type()
        self.compare(name, label, f"pika, confirm_delivery ({n_confirm} items)", n, n_confirm, ours, pika_load(True), 10)
        self.compare(name, label, "pika, no confirms", n, n, ours, pika_load(False), 1)
        self.compare(name, label, "amqp-publish -l -p, no confirms", n, n, ours, amqp_publish)

    def drains(self, progress=True):
        n = 2000 if self.quick else 50_000
        print(f"drain: {n} no-op items, 5 processes", flush=True)

        def five(label, command, env_extra=None):
            return lambda count: self.drained(label, lambda q: [command(q)] * 5, count, env_extra)

        ours = five("drain", lambda q: [f"{self.bin}/processor", "--quiet", "--prefetch", "100"])
        silent = five("drain-np", lambda q: [f"{self.bin}/processor", "--quiet", "--prefetch", "100", "--no-progress"])
        get = five("pika-get", lambda q: [self.python, f"{BENCH}/pika_get.py", self.host, str(self.port), q])
        consume = five("pika-consume", lambda q: [self.python, f"{BENCH}/pika_consume.py", self.host, str(self.port), q])
        label = "5 x processor --prefetch 100"
        name = "drain, no-op work" + self.on_type()
        self.compare(name, label, "5 x pika basic_get loop (the original)", n, n, ours, get, 8)
        self.compare(name, label, "5 x pika basic_consume, prefetch 100", n, n, ours, consume, 2.5)
        if not progress:
            return
        # Four times the items: the difference sought is a few percent, the noise of a short drain more.
        self.compare("progress events' cost", f"{label}, {4 * n} items (events on)", "the same with --no-progress",
                     4 * n, 4 * n, ours, silent, 0.95)

    def commands(self):
        """A command per item, one at a time, against amqp-consume (one at a time too) and against
        the machine's own ceiling for the same command (`spawn_ceiling`); the same with the next
        command started ahead (--spawn-ahead) against those and against the ceiling of a loop that
        starts ahead too; then two at a time with --concurrency 2 (2 cores) against one
        amqp-consume and against two. All seven alternate in one loop, so the machine's load hits
        them alike."""
        n = 300 if self.quick else 2000
        print(f"command per item: {n} items of `cat`, 1 process; the spawn ceiling; --concurrency 2", flush=True)

        def processor(*extra):
            args = [f"{self.bin}/processor", "--quiet", "--prefetch", "10", *extra, "--", "cat"]
            return lambda count: self.drained("cmd", lambda q: [args], count)

        def consume(processes):
            def run(count):
                per = -(-count // processes)  # the last one takes what the others leave
                return self.drained("amqp-consume", lambda q: [
                    ["amqp-consume", "-s", self.host, "--port", str(self.port), "-q", q, "-c", str(per), "-p", "10", "cat"]] * processes, count)
            return run

        # Each with the items its fixed cost is timed on: two amqp-consume take one item each.
        timed = {"one": (processor(), 1), "ahead": (processor("--spawn-ahead"), 1), "two": (processor("--concurrency", "2"), 1),
                 "consume": (consume(1), 1), "consume2": (consume(2), 2)}
        fixed = {k: statistics.median(run(few) for _ in range(self.runs)) for k, (run, few) in timed.items()}
        rates = {k: [] for k in list(timed) + ["ceiling", "ceiling ahead"]}
        with tempfile.TemporaryDirectory() as directory:
            ceiling = self.built_ceiling(directory)
            # A different one goes first in each round: the first after a pause ran faster (notes).
            order = list(timed) + ["ceiling", "ceiling ahead"]
            for turn in range(self.runs):
                for k in order[turn % len(order):] + order[:turn % len(order)]:
                    if k in timed:
                        run, few = timed[k]
                        rates[k].append((n - few) / max(run(n) - fixed[k], 1e-3))
                    else:
                        rates[k].append(self.spawn_ceiling(ceiling, n, ahead=k == "ceiling ahead"))
        one, two = "processor --prefetch 10 -- cat", "processor --concurrency 2 --prefetch 10 -- cat"
        ahead = "processor --spawn-ahead --prefetch 10 -- cat"
        consume1 = "amqp-consume -c N -p 10 cat"
        for label, key in ((one, "one"), (ahead, "ahead"), (two, "two"), (consume1, "consume"), ("2 x " + consume1, "consume2")):
            self.fixed.append((label, fixed[key]))
        med = {k: statistics.median(v) for k, v in rates.items()}
        # amqp-consume also runs one command at a time, so 1.2x of it asks for 1.2 * its share of the ceiling.
        self.add("command per item", one, consume1, rates["one"], rates["consume"], 1.2,
                 reason=f"it needs {1.2 * med['consume'] / med['ceiling']:.2f}x of the spawn ceiling; one command at a time cannot pass 1x")
        self.add("command per item", one, "the spawn ceiling: posix_spawn + waitpid of cat in a C loop, no broker", rates["one"],
                 rates["ceiling"], 0.9, reason=f"{1e6 / med['one'] - 1e6 / med['ceiling']:.0f} µs more per command than the loop")
        # The next command started while one works: one item's work at a time still, only start-ups overlap.
        self.add("command per item, next started ahead", ahead, consume1 + " (starts each command once the last ended)",
                 rates["ahead"], rates["consume"], 1.2, reason="the start-ups overlap only while a core is free")
        # Informative: the one-at-a-time loop cannot overlap start-ups, so no target here.
        self.add("command per item, next started ahead", ahead, "the spawn ceiling (one at a time, as above)", rates["ahead"],
                 rates["ceiling"], None)
        self.add("command per item, next started ahead", ahead,
                 "the spawn ceiling, next started ahead: the same C loop, each command started before the last is given its input",
                 rates["ahead"], rates["ceiling ahead"], 0.9,
                 reason=f"{1e6 / med['ahead'] - 1e6 / med['ceiling ahead']:.0f} µs more per command than the loop")
        self.add("command per item, 2 at once (2 cores)", two, consume1 + " (one at a time: not like for like)",
                 rates["two"], rates["consume"], 1.2,
                 reason=f"two at once reach {med['two'] / med['ceiling']:.2f}x the one-at-a-time ceiling on 2 cores shared with the broker")
        self.add("command per item, 2 at once (2 cores)", two, "2 x " + consume1 + " (like for like)",
                 rates["two"], rates["consume2"], 1,
                 reason="with both cores busy, the processor's own CPU per item (about twice amqp-consume's) is taken from the commands")

    def spawn_ceiling(self, binary, n, ahead=False):
        """Items per second a loop reaches that only starts `cat` (stdin and stdout /dev/null, as
        the processor gives it the item on stdin and drops its output) and waits for it: what
        starting processes allows on this machine, whatever the queue. The loop is C
        (bench/spawn_ceiling.c, built by `built_ceiling`): the same loop in Python
        (os.posix_spawn) spent about 260 µs of its own CPU per start against 85 µs, which put the
        ceiling lower than the machine's (bench/notes.md, The spawn ceiling). `ahead`: the loop
        starts each command before the last is given its input, as `--spawn-ahead` does (its stdin a
        pipe that gets "item\\n")."""
        out = subprocess.run([binary, *(["--ahead"] if ahead else []), str(n), shutil.which("cat")], check=True,
                             capture_output=True, text=True).stdout
        return float(out)

    @staticmethod
    def built_ceiling(directory):
        """bench/spawn_ceiling.c compiled into `directory` (cc, else the Swift toolchain's clang)."""
        compiler = shutil.which("cc") or shutil.which("clang")
        if not compiler:
            raise SystemExit("bench: no C compiler (cc or clang) for bench/spawn_ceiling.c")
        binary = os.path.join(directory, "spawn_ceiling")
        subprocess.run([compiler, "-O2", "-o", binary, os.path.join(BENCH, "spawn_ceiling.c")], check=True)
        return binary

    def stdio(self):
        n_command, n_stdio = (20, 500) if self.quick else (300, 20_000)
        print(f"python work: --stdio ({n_stdio} items) vs a command per item ({n_command} items)", flush=True)
        work = f"{BENCH}/work_item.py"

        def run(args):
            return lambda count: self.drained("py", lambda q: [[f"{self.bin}/processor", "--quiet", "--prefetch", "10"] + args], count)

        self.compare("python work per item", f"--stdio -- python3 work_item.py --stdio ({n_stdio})",
                     f"-- python3 work_item.py {{}} ({n_command})", n_stdio, n_command,
                     run(["--stdio", "--", self.python, work, "--stdio"]), run(["--", self.python, work, "{}"]), 30)

    def concurrency(self):
        n = 16 if self.quick else 160
        print(f"--concurrency: {n} items of `sleep 0.05`, 1 process", flush=True)

        def level(c):
            return lambda count: self.drained(
                "conc", lambda q: [[f"{self.bin}/processor", "--quiet", "--concurrency", str(c), "--", "sleep", "0.05"]], count)

        for c in (2, 4, 8):
            self.compare("--concurrency, sleep 0.05 per item", f"--concurrency {c}", "--concurrency 1", n, n, level(c), level(1))

    def on_type(self):
        return ", quorum queue" if self.qtype == "quorum" else ""

    def quorum(self):
        """The loads and drains again on quorum queues (replicated; here one node), ours and the
        baselines on the same queue type."""
        self.qtype = "quorum"
        try:
            self.loads()
            self.drains(progress=False)
        finally:
            self.qtype = "classic"

    def shards(self):
        """Loads and drains over 1, 2 and 4 shards (bench/shards.py)."""
        ShardBench(self).run()

    def measured(self, command, env, stdin_path=None):
        """Runs `command` alone; returns (wall seconds, peak resident MB) from wait4's rusage."""
        with tempfile.TemporaryFile() as err, open(stdin_path or os.devnull, "rb") as stdin:
            started = time.monotonic()
            p = subprocess.Popen(command, env=env, stdin=stdin, stdout=subprocess.DEVNULL, stderr=err)
            _, status, usage = os.wait4(p.pid, 0)
            elapsed = time.monotonic() - started
            p.returncode = os.waitstatus_to_exitcode(status)
            if p.returncode != 0:
                err.seek(0)
                raise SystemExit(f"bench: {command[0]} exited {p.returncode}: {err.read().decode(errors='replace')[-400:]}")
        return elapsed, usage.ru_maxrss / 1024

    def drain_measured(self, q, pods, extra=None):
        """Drains `q` with `pods` processors started at once; returns (seconds until the queue's
        ready count is 0, as `drained` times it, and the largest peak resident MB of one processor,
        once all exited)."""
        connection = pika.BlockingConnection(pika.ConnectionParameters(host=self.host, port=self.port))
        channel = connection.channel()
        started = time.monotonic()
        procs = [subprocess.Popen([f"{self.bin}/processor", "--quiet", "--prefetch", "100"] + (extra or []),
                                  env=self.env(q), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for _ in range(pods)]
        while channel.queue_declare(queue=q, passive=True).method.message_count > 0:
            if any(p.poll() is not None for p in procs):
                break
            time.sleep(0.005)
        elapsed = time.monotonic() - started
        connection.close()
        peak = 0.0
        for p in procs:
            _, status, usage = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            if p.returncode != 0:
                raise SystemExit(f"bench: a processor exited {p.returncode}")
            peak = max(peak, usage.ru_maxrss / 1024)
        return elapsed, peak

    def scale(self):
        big, small = (20_000, 2_000) if self.quick else (1_000_000, 100_000)
        print(f"scale: {big:,} and {small:,} items, 1 MB items, 100 processors", flush=True)
        name = "scale"
        # Loader and a 5-processor drain: rate and peak memory at two sizes (memory must stay flat).
        results = {}
        for n in (small, big):
            q = self.queue("scale")
            load_s, load_mb = self.measured([f"{self.bin}/loader", "--count", str(n), "--quiet"], self.env(q))
            drain_s, drain_mb = self.drain_measured(q, 5)
            self.delete(q)
            results[n] = (n / load_s, load_mb, n / drain_s, drain_mb)
        (lr_s, lm_s, dr_s, dm_s), (lr_b, lm_b, dr_b, dm_b) = results[small], results[big]
        self.rows.append((name, f"loader --count {big:,}: items/s", num(lr_b), f"loader --count {small:,}", num(lr_s),
                          f"{lr_b / lr_s:.2f}x", "", ""))
        self.rows.append((name, f"loader --count {big:,}: peak memory", f"{lm_b:.1f} MB", f"loader --count {small:,}",
                          f"{lm_s:.1f} MB", f"{lm_b / lm_s:.2f}x", "<= 1.2x", "yes" if lm_b <= 1.2 * lm_s else "**no**"))
        self.rows.append((name, f"5 processors drain {big:,}: items/s", num(dr_b), f"the same, {small:,} items",
                          num(dr_s), f"{dr_b / dr_s:.2f}x", "", ""))
        self.rows.append((name, f"5 processors drain {big:,}: peak memory of one", f"{dm_b:.1f} MB", f"the same, {small:,} items",
                          f"{dm_s:.1f} MB", f"{dm_b / dm_s:.2f}x", "<= 1.2x", "yes" if dm_b <= 1.2 * dm_s else "**no**"))
        print(f"  load {lr_b:,.0f}/s {lm_b:.1f} MB (vs {lr_s:,.0f}/s {lm_s:.1f} MB); drain {dr_b:,.0f}/s {dm_b:.1f} MB "
              f"(vs {dr_s:,.0f}/s {dm_s:.1f} MB)", flush=True)
        # Items of 1 MB: loaded from a file of 1 MB lines, drained by one processor.
        count = 10 if self.quick else 200
        with tempfile.NamedTemporaryFile("wb", suffix=".items", delete=False) as f:
            for i in range(count):
                f.write(b"%08d" % i + b"x" * (1024 * 1024 - 8) + b"\n")
            path = f.name
        try:
            q = self.queue("mb")
            load_s, load_mb = self.measured([f"{self.bin}/loader", "--file", path, "--quiet"], self.env(q))
            drain_s, drain_mb = self.drain_measured(q, 1)
            self.delete(q)
            # The baseline: pika publishing the same sizes with confirms (amqp-publish -l cuts
            # lines at 32 KiB, so it cannot carry them).
            q = self.queue("mb-pika")
            publish_s, _ = self.measured([self.python, f"{BENCH}/pika_loader.py", self.host, str(self.port), q, str(count),
                                          "--confirm", "--type", self.qtype, "--size", str(1024 * 1024 - 1)], None)
            self.delete(q)
        finally:
            os.unlink(path)
        self.rows.append((name, f"loader, {count} items of 1 MB: MB/s (peak {load_mb:.0f} MB)", f"{count / load_s:.0f}",
                          "pika, confirm_delivery, the same sizes", f"{count / publish_s:.0f}", f"{publish_s / load_s:.2f}x", "", ""))
        self.rows.append((name, f"1 processor drains {count} items of 1 MB: MB/s (peak {drain_mb:.0f} MB)",
                          f"{count / drain_s:.0f}", "", "", "", "", ""))
        print(f"  1 MB items: load {count / load_s:.0f} MB/s ({load_mb:.0f} MB), pika {count / publish_s:.0f} MB/s, "
              f"drain {count / drain_s:.0f} MB/s ({drain_mb:.0f} MB)", flush=True)
        self.many_pods()

    def many_pods(self):
        """Many processors on one queue against 5 (issue 23), on the same load. Starting a
        processor costs CPU (its own: loading the binary, two connections, declares; the broker's:
        connections, channels, queues' and exchange's declares, the consumer), and on a small
        machine starting 100 of them takes seconds that 5 do not need. So the draining alone is
        timed with the processors up before the load (`drain_started`), and each drain started on
        the loaded queue gives two more rates: from the first spawn until the queue's ready count
        is 0 (the start included), and from the moment every processor consumes (the broker counts
        N consumers) until it is 0 (informative: on 2 cores little is left by then). The start is
        measured apart, on an empty queue: the time until every processor has sent its first
        progress event (sent just before its basic.consume), the broker's CPU per start, and then,
        idle, the broker's CPU per processor and second and the memory of each."""
        # --quick (the test suite) leaves out the largest count: it proves the script, not the figures.
        counts = (5, 20) if self.quick else (5, 100, 300)
        few, many = counts[0], counts[1]
        # Large enough that, on 2 cores, half of it or more is left once all consume.
        n = 20_000 if self.quick else 200_000
        print(f"many processors on one queue: {', '.join(map(str, counts))} processors, {n:,} items", flush=True)
        name = "scale"
        runs = {pods: [] for pods in counts}
        up = {pods: [] for pods in counts}
        for _ in range(self.runs):
            for pods in counts:
                q = self.queue("many")
                self.load(q, n)
                runs[pods].append(self.drain_watched(q, pods, n))
                self.delete(q)
                up[pods].append(self.drain_started(pods, n))
        for pods in counts[1:]:
            broker, base = [c for _, c in up[pods]], [c for _, c in up[few]]
            self.add(name, f"{pods} processors up before the load drain {n:,}: items/s", f"{few} processors, the same",
                     [r for r, _ in up[pods]], [r for r, _ in up[few]], 0.9 if pods == many else None,
                     reason=f"the broker spends {statistics.median(broker) / statistics.median(base):.2f}x the CPU per delivery "
                            f"with {pods} consumers (round-robin: fewer deliveries per write; bench/notes.md)")
            self.rows.append((name, f"{pods} processors up before the load: the broker's CPU per item, us", fmt(broker),
                              f"{few} processors", fmt(base), ratio(statistics.median(broker), statistics.median(base)), "", ""))
            for key, label, target in (("whole", "start included", 0.9), ("consuming", "once all consume", None)):
                ours = [r[key] for r in runs[pods] if r[key] is not None]
                base = [r[key] for r in runs[few] if r[key] is not None]
                if not ours or not base:
                    self.rows.append((name, f"{pods} processors drain {n:,}, {label}: items/s", "n/a (the queue was empty before all consumed)",
                                      f"{few} processors", fmt(base) if base else "n/a", "",
                                      target_text(target, True) if pods == many and target else "",
                                      "**no**" if pods == many and target else ""))
                    continue
                self.add(name, f"{pods} processors drain {n:,}, {label}: items/s", f"{few} processors", ours, base,
                         target if pods == many else None,
                         reason=f"{pods} process starts share the 2 cores with the drain (CPU per start below)")
        exits = [r["exit"] for r in runs[many]]
        self.rows.append((name, f"{many} processors: seconds from the queue's ready count 0 to the last exit",
                          f"{statistics.median(exits):.2f} (max {max(exits):.2f})", "target", "1 s", "", "<= 1 s",
                          "yes" if max(exits) <= 1 else "**no**"))
        print(f"  exit at {many}: median {statistics.median(exits):.2f} s, max {max(exits):.2f} s", flush=True)
        fleets = {pods: self.idle_fleet(pods) for pods in counts}
        for pods in counts[1:]:
            f, b = fleets[pods], fleets[few]
            self.rows.append((name, f"{pods} processors start: seconds until all consume", f"{f['start']:.2f}",
                              f"{few} processors", f"{b['start']:.2f}", f"{f['start'] / b['start']:.2f}x", "", ""))
            self.rows.append((name, f"{pods} processors start: CPU per start, ms (broker; its own)",
                              f"{f['broker_start']:.1f}; {f['own_start']:.1f}", f"{few} processors",
                              f"{b['broker_start']:.1f}; {b['own_start']:.1f}", ratio(f['broker_start'], b['broker_start']), "", ""))
            # Per processor and second, the broker's own idle CPU taken out; too small to read at 5.
            self.rows.append((name, f"{pods} idle processors: broker CPU per processor, ms per s", f"{f['broker_idle']:.2f}",
                              "", "", "", "", ""))
            self.rows.append((name, f"{pods} idle processors: memory of one, MB: Pss (VmRSS, VmHWM)",
                              f"{f['pss']:.1f} ({f['rss']:.1f}, {f['hwm']:.1f})", f"{few} processors",
                              f"{b['pss']:.1f} ({b['rss']:.1f}, {b['hwm']:.1f})", f"{f['pss'] / b['pss']:.2f}x", "", ""))

    def drain_watched(self, q, pods, n):
        """Drains `q` (holding `n` items) with `pods` processors started at once, polling the
        queue every 5 ms. Returns the rate from the first spawn until its ready count is 0
        (`whole`), the rate from when the broker counted `pods` consumers until then (`consuming`,
        None when it never did), and the seconds from that 0 until the last processor exited."""
        connection = pika.BlockingConnection(pika.ConnectionParameters(host=self.host, port=self.port))
        channel = connection.channel()
        started = time.monotonic()
        procs = [subprocess.Popen([f"{self.bin}/processor", "--quiet", "--prefetch", "100"], env=self.env(q, POD_NAME=f"pod-{i}"),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for i in range(pods)]
        all_consume = None
        while True:
            counts = channel.queue_declare(queue=q, passive=True).method
            now = time.monotonic()
            if all_consume is None and counts.consumer_count >= pods:
                all_consume = (now, counts.message_count)
            if counts.message_count == 0 or any(p.poll() is not None for p in procs):
                break
            time.sleep(0.005)
        empty = now
        connection.close()
        exits = []
        for p in procs:
            _, status, _ = os.wait4(p.pid, 0)
            exits.append(time.monotonic())
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"bench: a processor exited {os.waitstatus_to_exitcode(status)}")
        consuming = None
        if all_consume is not None and empty > all_consume[0] and all_consume[1] > 0:
            consuming = all_consume[1] / (empty - all_consume[0])
        print(f"  {pods} processors: empty after {empty - started:.2f} s, all consumed after "
              f"{'never' if all_consume is None else f'{all_consume[0] - started:.2f} s ({all_consume[1]:,} left)'}", flush=True)
        return {"whole": n / (empty - started), "consuming": consuming, "exit": max(exits) - empty}

    def drain_started(self, pods, n):
        """Drains `n` items with `pods` processors that were up before the load, as a Job's pods
        are when they start before the work is loaded (or wait with `--wait-for-work`): started on
        the empty queue (`waiting_fleet`), stopped (SIGSTOP) while the load goes in, so that loading
        and draining do not share the cores, then continued together. Returns the rate from the
        continue until the queue's ready count is 0, and the broker's CPU per item meanwhile (us):
        the draining alone, without 100 process starts on the same 2 cores."""
        q = self.queue("started")
        procs, connection, _ = self.waiting_fleet(q, pods)
        for p in procs:
            p.send_signal(signal.SIGSTOP)
        try:
            self.load(q, n)
        except BaseException:
            for p in procs:
                p.send_signal(signal.SIGCONT)
            raise
        # The clock starts at the continue: the idle processors find the work at their next sample.
        broker = broker_pid()
        channel = connection.channel()
        cpu_before, started = process_cpu_seconds(broker), time.monotonic()
        for p in procs:
            p.send_signal(signal.SIGCONT)
        while channel.queue_declare(queue=q, passive=True).method.message_count > 0:
            if any(p.poll() is not None for p in procs):
                raise SystemExit("bench: a processor exited before the queue was empty")
            time.sleep(0.005)
        seconds, cpu = time.monotonic() - started, process_cpu_seconds(broker) - cpu_before
        self.end_fleet(q, procs, connection, expected=0)
        print(f"  {pods} processors started before the load: {n / seconds:,.0f}/s, the broker {1e6 * cpu / n:.1f} us per item",
              flush=True)
        return n / seconds, 1e6 * cpu / n

    def waiting_fleet(self, q, pods, before_start=lambda: None):
        """Starts `pods` processors on the empty queue `q` (`--wait-for-work`, so they stay) and
        waits until each has sent its first progress event (its `starting` event, sent right
        before its basic.consume). A consumer on QUEUE.stopping, as a peer returning what it holds
        would be, keeps them waiting however they see each other start (two samples in a row with
        consumers count as work seen, and then two empty ones end the wait); it adds nothing to
        what an idle processor asks the broker (with QUEUE at 0 ready and 0 consumers, each sample
        reads QUEUE.stopping anyway). `before_start` is called right before the first spawn.
        Returns the processes, the connection holding that consumer (closing it lets them exit
        once the queue is empty) and the seconds until all started."""
        pika_declare(self.host, self.port, q, self.qtype)
        connection = pika.BlockingConnection(pika.ConnectionParameters(host=self.host, port=self.port))
        channel = connection.channel()
        channel.exchange_declare(exchange=q + ".progress", exchange_type="fanout", durable=True)
        events = channel.queue_declare(queue="", exclusive=True).method.queue
        channel.queue_bind(queue=events, exchange=q + ".progress")
        channel.queue_declare(queue=q + ".stopping", durable=True, arguments={"x-queue-type": "quorum"} if self.qtype == "quorum" else None)
        channel.basic_consume(queue=q + ".stopping", on_message_callback=lambda *_: None, auto_ack=True)
        before_start()
        started = time.monotonic()
        procs = [subprocess.Popen([f"{self.bin}/processor", "--quiet", "--prefetch", "100", "--wait-for-work", "600"],
                                  env=self.env(q, POD_NAME=f"pod-{i}"), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
                 for i in range(pods)]
        seen = set()
        deadline = started + 120
        while len(seen) < pods and time.monotonic() < deadline:
            _, _, body = channel.basic_get(queue=events, auto_ack=True)
            if body is None:
                time.sleep(0.002)
                continue
            seen.add(json.loads(body)["pod"])
        if len(seen) < pods:
            raise SystemExit(f"bench: only {len(seen)} of {pods} processors started within 120 s")
        channel.queue_delete(queue=events)
        return procs, connection, time.monotonic() - started

    def end_fleet(self, q, procs, connection, expected):
        """Ends a `waiting_fleet`: closes the connection holding QUEUE.stopping, then waits for
        every processor, which must exit `expected` (0: the queue drained; 143: SIGTERM, sent
        here), and deletes the queue."""
        connection.close()
        if expected == 143:
            for p in procs:
                p.terminate()
        for p in procs:
            p.wait()
            if p.returncode != expected:
                raise SystemExit(f"bench: a processor exited {p.returncode}: {p.stderr.read().decode(errors='replace')[-400:]}")
        self.delete(q)

    def idle_fleet(self, pods):
        """Starts `pods` processors on an empty queue (`waiting_fleet`), then measures them idle;
        ends them with SIGTERM. Returns the seconds until all started, the broker's CPU per start
        and each processor's own (ms), the broker's CPU per idle processor and second (ms), and
        the median memory of one (MB)."""
        q = self.queue("idle")
        broker = broker_pid()
        window, settle = (0.5, 0.25) if self.quick else (10.0, 2.0)
        # The broker's own CPU while nothing is connected, taken out of the idle figure.
        time.sleep(settle)
        broker_before = process_cpu_seconds(broker)
        time.sleep(window)
        broker_alone = process_cpu_seconds(broker) - broker_before
        marks = {}
        procs, connection, start = self.waiting_fleet(q, pods, lambda: marks.update(broker=process_cpu_seconds(broker)))
        broker_start = process_cpu_seconds(broker) - marks["broker"]
        own_start = sum(process_cpu_seconds(p.pid) for p in procs)
        time.sleep(settle)
        broker_before = process_cpu_seconds(broker)
        time.sleep(window)
        broker_idle = max(0.0, process_cpu_seconds(broker) - broker_before - broker_alone)
        gone = [p.returncode for p in procs if p.poll() is not None]
        if gone:
            raise SystemExit(f"bench: {len(gone)} idle processors exited ({gone[0]}) while the benchmark waited")
        memory = [memory_mb(p.pid) for p in procs]
        self.end_fleet(q, procs, connection, expected=143)
        result = {"start": start, "broker_start": 1000 * broker_start / pods, "own_start": 1000 * own_start / pods,
                  "broker_idle": 1000 * broker_idle / pods / window,
                  "pss": statistics.median(m[0] for m in memory), "rss": statistics.median(m[1] for m in memory),
                  "hwm": statistics.median(m[2] for m in memory)}
        print(f"  {pods} idle: all started after {start:.2f} s; per start {result['broker_start']:.1f} ms broker, "
              f"{result['own_start']:.1f} ms own; idle {result['broker_idle']:.2f} ms/s broker each; "
              f"Pss {result['pss']:.1f} MB (VmRSS {result['rss']:.1f}, VmHWM {result['hwm']:.1f})", flush=True)
        return result

    def exits(self):
        pods, items = (3, 30) if self.quick else (5, 100)
        print(f"exit after the last item: {pods} processors, {items} items of 20-80 ms", flush=True)
        latencies = []
        for _ in range(self.runs):
            q = self.queue("exit")
            self.load(q, items)
            stamps = tempfile.mkdtemp(prefix="bench-exit-")
            # Each item's command notes when it ended; the processor acknowledges right after.
            work = f"sleep 0.0$((RANDOM % 7 + 2)); date +%s.%N > {stamps}/$WORK_ITEM"
            procs = [subprocess.Popen([f"{self.bin}/processor", "--quiet", "--", "bash", "-c", work], env=self.env(q),
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                     for _ in range(pods)]
            exited = {}

            def watch(p):
                p.wait()
                exited[p.pid] = time.time()

            threads = [threading.Thread(target=watch, args=(p,)) for p in procs]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
            for p in procs:
                if p.returncode != 0:
                    raise SystemExit(f"bench: a processor exited {p.returncode}: {p.stderr.read().decode(errors='replace')[-400:]}")
            ends = [float(open(os.path.join(stamps, name)).read()) for name in os.listdir(stamps)]
            if len(ends) < items:
                raise SystemExit(f"bench: only {len(ends)} of {items} items ran")
            last = max(ends)
            latencies += [exited[p.pid] - last for p in procs]
            shutil.rmtree(stamps)
            self.delete(q)
        worst = max(latencies)
        self.rows.append(("exit after the last item", f"{pods} processors, seconds from the last item's end to each exit",
                          f"{statistics.median(latencies):.2f} (max {worst:.2f})", "target", "1 s", "", "<= 1 s",
                          "yes" if worst <= 1 else "**no**"))
        print(f"  exit: median {statistics.median(latencies):.2f} s, max {worst:.2f} s", flush=True)

    def monitor(self):
        pods, window = (20, 1.0) if self.quick else (100, 5.0)
        print(f"wqtop following {pods} processors at 1 Hz", flush=True)
        q = self.queue("wqtop")
        pika_declare(self.host, self.port, q)
        env = self.env(q)
        procs = [
            subprocess.Popen([f"{self.bin}/processor", "--quiet", "--wait-for-work", "3600"],
                             env={**env, "POD_NAME": f"bench-pod-{i}"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for i in range(pods)
        ]
        try:
            self.follow(q, pods, window, f"wqtop, {pods} processors at 1 Hz", 1, 30)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait()
            self.delete(q)

    def monitor_scale(self):
        pods, window = (1000, 3.0) if self.quick else (1000, 5.0)
        print(f"wqtop following {pods:,} pods' events at 1 Hz (published by bench/fake_pods.py), "
              "on its screen and then with --serve", flush=True)
        q = self.queue("wqtop-scale")
        pika_declare(self.host, self.port, q)
        # Long enough for both: each waits up to 30 s for every pod, then measures.
        fake = subprocess.Popen([self.python, f"{BENCH}/fake_pods.py", self.host, str(self.port), q, str(pods),
                                 str(60 + 2 * window * self.runs)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            screen = self.follow(q, pods, window, f"wqtop, {pods:,} pods' events at 1 Hz", 10, 60)
            self.serve(q, pods, int(window), f"wqtop --serve, {pods:,} pods' events at 1 Hz, scraped every 1 s",
                       screen, 10, 60, 100)
        finally:
            fake.terminate()
            fake.wait()
            self.delete(q)

    def follow(self, q, pods, window, name, cpu_target, mb_target):
        """Runs wqtop in a 120x40 tmux terminal on `q` until it shows `pods` pods, then measures
        its CPU (per cent of one core, over `window` s, `runs` times) and peak resident memory."""
        session = f"bench-{uuid.uuid4().hex[:6]}"
        try:
            wqtop = " ".join([f"WORK_QUEUE_HOST={self.host}", f"WORK_QUEUE_PORT={self.port}", f"WORK_QUEUE_NAME={q}",
                              "LANG=C.UTF-8", f"{self.bin}/wqtop"])
            subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", wqtop], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            pid = None
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                out = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout
                if f"pods {pods}:" in out:
                    pane = int(subprocess.run(["tmux", "list-panes", "-t", session, "-F", "#{pane_pid}"],
                                              capture_output=True, text=True).stdout.split()[0])
                    pid = find_process(pane, "wqtop")
                    break
                time.sleep(0.2)
            if pid is None:
                raise SystemExit(f"bench: wqtop never showed {pods} pods")
            cpu = []
            for _ in range(self.runs):
                t0, c0 = time.monotonic(), cpu_seconds(pid)
                time.sleep(window)
                cpu.append(100.0 * (cpu_seconds(pid) - c0) / (time.monotonic() - t0))
            rss = rss_mb(pid)
            med, lo, hi = self.summary(cpu)
            self.rows.append((name, "CPU of one core", f"{med:.2f}% ({lo:.2f}-{hi:.2f})",
                              "target", f"{cpu_target}%", "", f"<= {cpu_target}%", "yes" if med <= cpu_target else "**no**"))
            self.rows.append((name, "resident memory (VmHWM)", f"{rss:.1f} MB",
                              "target", f"{mb_target} MB", "", f"<= {mb_target} MB", "yes" if rss <= mb_target else "**no**"))
            print(f"  {name}: {med:.2f}% CPU, {rss:.1f} MB", flush=True)
            return med, rss
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def serve(self, q, pods, window, name, screen, cpu_target, mb_target, ms_target):
        """Runs `wqtop --serve 127.0.0.1:0` on `q` and scrapes its /metrics every second, as
        Prometheus would, until the page has a series for each of `pods` pods; then measures its
        CPU (utime + stime from /proc/PID/stat, per cent of one core, over `window` scrapes, `runs`
        times), its peak resident memory, the page's size and each scrape's latency (request sent
        to the last byte read, one kept-alive connection). `screen` is wqtop's (CPU %, MB) on the
        same events: the baseline."""
        with tempfile.NamedTemporaryFile(prefix="bench-serve-", suffix=".log") as log:
            proc = subprocess.Popen([f"{self.bin}/wqtop", "--serve", "127.0.0.1:0"], env=self.env(q),
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
            try:
                self.scraped(proc, log.name, pods, window, name, screen, cpu_target, mb_target, ms_target)
            finally:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def scraped(self, proc, log, pods, window, name, screen, cpu_target, mb_target, ms_target):
        def stderr():
            return open(log, errors="replace").read()

        def scrape():
            started = time.monotonic()
            connection.request("GET", "/metrics")
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                raise SystemExit(f"bench: GET /metrics answered {response.status}: {body[:200]!r}")
            return body, time.monotonic() - started

        deadline = time.monotonic() + 20
        while "serving metrics on http://" not in stderr():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"bench: wqtop --serve never listened: {stderr()[-400:]}")
            time.sleep(0.05)
        address = stderr().split("serving metrics on http://", 1)[1].split("/", 1)[0]
        host, port = address.rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        prefix = b"workqueue_pod_items_processed_total{"
        deadline = time.monotonic() + 30
        while True:
            body, _ = scrape()
            shown = sum(1 for line in body.split(b"\n") if line.startswith(prefix))
            if shown >= pods:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"bench: wqtop --serve showed {shown} of {pods} pods: {stderr()[-400:]}")
            time.sleep(1)
        cpu, latencies, sizes, exact = [], [], [], []
        for _ in range(self.runs):
            t0, c0, s0 = time.monotonic(), stat_cpu_seconds(proc.pid), cpu_seconds(proc.pid)
            for i in range(window):
                body, seconds = scrape()
                latencies.append(seconds * 1000)
                sizes.append(len(body))
                time.sleep(max(0.0, t0 + i + 1 - time.monotonic()))
            elapsed = time.monotonic() - t0
            cpu.append(100.0 * (stat_cpu_seconds(proc.pid) - c0) / elapsed)
            exact.append(100.0 * (cpu_seconds(proc.pid) - s0) / elapsed)
        connection.close()
        rss = rss_mb(proc.pid)
        med, lo, hi = self.summary(cpu)
        p50, worst = statistics.median(latencies), max(latencies)
        base = "wqtop's screen, the same events"
        self.rows.append((name, "CPU of one core", f"{med:.2f}% ({lo:.2f}-{hi:.2f})", base, f"{screen[0]:.2f}%",
                          f"{med / screen[0]:.2f}x" if screen[0] else "", f"<= {cpu_target}%",
                          "yes" if med <= cpu_target else "**no**"))
        self.rows.append((name, "resident memory (VmHWM)", f"{rss:.1f} MB", base, f"{screen[1]:.1f} MB",
                          f"{rss / screen[1]:.2f}x", f"<= {mb_target} MB", "yes" if rss <= mb_target else "**no**"))
        self.rows.append((name, f"page of {statistics.median(sizes):,.0f} bytes: scrape latency p50 (max) of {len(latencies)}",
                          f"{p50:.1f} ms ({worst:.1f} ms)", "target", f"{ms_target} ms", "", f"max <= {ms_target} ms",
                          "yes" if worst <= ms_target else "**no**"))
        print(f"  {name}: {med:.2f}% CPU ({statistics.median(exact):.2f}% by schedstat), {rss:.1f} MB; "
              f"page {statistics.median(sizes):,.0f} bytes, scrape p50 {p50:.1f} ms, max {worst:.1f} ms", flush=True)

    # -- output ------------------------------------------------------------------------------

    def table(self):
        lines = ["| benchmark | ours | items/s | baseline | items/s | ratio | target | met |", "|---|---|---|---|---|---|---|---|"]
        for row in self.rows:
            lines.append("| " + " | ".join(row) + " |")
        lines += ["", "Fixed cost of each command (the time for 1 item: start, connect), subtracted above:", "",
                  "| command | seconds |", "|---|---|"]
        seen = set()
        for label, seconds in self.fixed:
            if label not in seen:
                seen.add(label)
                lines.append(f"| {label} | {seconds:.2f} |")
        if self.lost:
            lines += ["", "Unconfirmed publishes the broker never stored (that baseline's rate is over the items stored):", ""]
            lines += [f"- {line}" for line in self.lost]
        for title, table in self.tables:
            lines += ["", f"### {title}", ""] + table
        return "\n".join(lines)


def find_process(root, name):
    """`root` or the first of its descendants whose command name is `name`."""
    todo = [root]
    while todo:
        pid = todo.pop(0)
        try:
            if open(f"/proc/{pid}/comm").read().strip() == name:
                return pid
            todo += [int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()]
        except OSError:
            continue
    raise SystemExit(f"bench: no {name} process under pid {root}")


def cpu_seconds(pid):
    """CPU time of the process in seconds, nanosecond precision (/proc/PID/schedstat)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


def process_cpu_seconds(pid):
    """CPU time of all threads of the process in seconds, nanosecond precision (the sum of
    /proc/PID/task/*/schedstat): the broker's schedulers are threads, and clock ticks are too
    coarse for a few milliseconds per processor."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            continue
    return total / 1e9


def stat_cpu_seconds(pid):
    """utime + stime of the process in seconds (/proc/PID/stat, clock ticks): what Prometheus'
    process_cpu_seconds_total reports."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def broker_pid():
    """The broker's beam.smp: the process listening on the benchmark's port (from /proc/net/tcp
    and the sockets each process holds), else the only beam.smp running."""
    candidates = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if open(f"/proc/{pid}/comm").read().strip() == "beam.smp":
                candidates.append(int(pid))
        except OSError:
            continue
    port = f":{BENCH_PORT[0]:04X}" if BENCH_PORT else None
    listening = set()
    if port:
        for line in open("/proc/net/tcp").read().splitlines()[1:]:
            fields = line.split()
            if fields[1].endswith(port) and fields[3] == "0A":
                listening.add(fields[9])
    for pid in candidates:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in listening:
                    return pid
        except OSError:
            continue
    if len(candidates) == 1:
        return candidates[0]
    raise SystemExit(f"bench: cannot tell which beam.smp is the broker ({len(candidates)} running)")


def memory_mb(pid):
    """(Pss, VmRSS, VmHWM) of a process in MB. Pss shares each page among the processes that map
    it (the binary's and libraries' text, read once for all), so it is what one more costs."""
    pss = 0
    for line in open(f"/proc/{pid}/smaps_rollup"):
        if line.startswith("Pss:"):
            pss = int(line.split()[1])
    status = {l.split(":")[0]: int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith(("VmRSS:", "VmHWM:"))}
    return pss / 1024, status["VmRSS"] / 1024, status["VmHWM"] / 1024


def pika_declare(host, port, queue, qtype="classic"):
    connection = pika.BlockingConnection(pika.ConnectionParameters(host=host, port=port))
    arguments = {"x-queue-type": "quorum"} if qtype == "quorum" else None
    connection.channel().queue_declare(queue=queue, durable=True, arguments=arguments)
    connection.close()


def ratio(a, b):
    return f"{a / b:.2f}x" if b > 0 else "n/a"


def fmt(values):
    med, lo, hi = statistics.median(values), min(values), max(values)
    return f"{num(med)} ({num(lo)}-{num(hi)})"


def num(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"


def target_text(target, higher):
    if target is None:
        return ""
    return f">= {target}x" if higher else f"<= {target}x"


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    broker = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "rabbitmq-server"], capture_output=True, text=True).stdout
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()
    return cpu, broker or "unknown", (swift[0] if swift else "unknown")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output")
    parser.add_argument("--only", help="comma-separated: loads,drains,quorum,commands,stdio,concurrency,exits,monitor,scale,monitor_scale,shards")
    args = parser.parse_args()
    BENCH_PORT.append(args.port)
    bench = Bench(args)
    started = time.monotonic()
    parts = ["loads", "drains", "quorum", "commands", "stdio", "concurrency", "exits", "monitor", "scale", "monitor_scale", "shards"]
    for part in args.only.split(",") if args.only else parts:
        part_started = time.monotonic()
        getattr(bench, part)()
        print(f"  ({part}: {time.monotonic() - part_started:.0f} s)", flush=True)
    cpu, broker, swift = machine()
    header = [
        f"Measured {datetime.date.today().isoformat()} on {os.cpu_count()} cores ({cpu}), RabbitMQ {broker} "
        f"(Debian package, one local node; the Shards table also on a local 3-node cluster), {swift}; {'--quick sizes' if args.quick else 'full sizes'}; "
        f"{time.monotonic() - started:.0f} s in all.",
        "",
        "Each figure: median of 3 runs (min-max), ours and the baseline alternating in one run. A rate is",
        "(N - 1) items over (time for N items - time for 1 item): the work only, without each tool's fixed",
        "cost of starting and connecting (listed below the table). Loads are timed until the queue holds",
        "every item (our loader exits only then; unconfirmed publishers exit earlier); drains from the start of the processes until the queue's ready count",
        "is 0 (polled every 5 ms), so each tool's own way of noticing the end (our drain barrier, pika's",
        "1 s inactivity timeout) is not timed; the last prefetched items are still finishing at that moment.",
        "Many processors on one queue (scale): the draining alone is timed with the processors up before",
        "the load (started on the empty queue, stopped while the load goes in, continued together; the",
        "rate until the ready count is 0); each drain started on the loaded queue gives the rate with the",
        "start included (from the first spawn) and the rate once the broker counts every processor as a",
        "consumer (informative only: on 2 cores little of the load is left by then, one to a few thousand",
        "items at 100 processors); the start is measured apart on an empty queue (until each processor has sent its first",
        "progress event, right before its basic.consume), with the broker's CPU (all its threads'",
        "schedstat) per start and per idle processor and second, and each idle processor's memory (Pss:",
        "shared pages split among the processes that map them; VmRSS counts them whole).",
        "",
        "",
    ]
    text = "# Benchmarks\n\nReproduce with `bench/run` (writes this file) or `bench/run --quick`.\n\n" + "\n".join(header) + bench.table() + "\n"
    notes = os.path.join(BENCH, "notes.md")
    if os.path.exists(notes) and not args.quick:
        text += "\n" + open(notes).read()
    print()
    print(text)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)


if __name__ == "__main__":
    try:
        main()
    except (pika.exceptions.AMQPError, subprocess.CalledProcessError, OSError) as error:
        # One line, no traceback: the broker went away, tmux failed, a file could not be written.
        raise SystemExit(f"bench: {type(error).__name__}: {error}")
