#!/usr/bin/env python3
"""RadixServe against llama.cpp on this host: the measurements of scripts/bench-peers.sh.

Run through scripts/bench-peers.sh, which builds both systems, makes the models and their GGUF
files and then calls this with the paths. For every round, shape and dtype, each workload runs
on llama.cpp and then on RadixServe (A B A B ...), so drift of a shared host lands on both:

  prefill   RadixServe `bench` (single workload) prefill tok/s;
            llama-bench -p P -n 0, flash attention off and on, the better median.
  decode    RadixServe `bench` batch-1 decode tok/s (after the P-token prompt);
            llama-bench -p 0 -n D -d P (D tokens at depth P, as RadixServe decodes after its
            prompt), flash attention off and on, the better median. Peak RSS of both processes.
            Then both again on 1 thread: a probe of contention from other processes.
  offline   RadixServe `bench --workload offline` output tok/s (R requests, concurrency 16);
            llama-batched-bench -npp 128 -ntg 128 -npl 16: 16 sequences prefilled then decoded
            together, output tok/s = 16 × 128 / (prefill + decode seconds).
  http      RadixServe `up` (1 worker, 2 threads) + `bench --url --workload random`;
            llama-server -np 16 + the client below: R requests, 16 in flight, random prompt ids,
            n_predict 128 with ignore_eos; output tok/s = generated tokens / wall seconds.

Prints the table of medians (with RadixServe / llama.cpp per row) and writes every raw figure,
the host and the settings to the JSON file named by --out.
"""

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

THREADS = 2
CONCURRENCY = 16
OFFLINE_PROMPT = OFFLINE_OUTPUT = 128


# ---------------------------------------------------------------------------- processes

def run(cmd: list[str], timeout: float = 3600) -> tuple[str, int]:
    """Runs cmd to completion; returns (stdout, peak RSS in KiB of it and its waited-for
    children, from wait4). Raises with the stderr tail when it fails."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{stderr[-3000:]}")
    return stdout, usage.ru_maxrss


class Server:
    """A background server process with its log in a temporary file; stop() interrupts it."""

    def __init__(self, cmd: list[str]):
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)

    def text(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def wait_for(self, predicate, what: str, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{what}: server exited {self.proc.returncode}:\n{self.text()[-3000:]}")
            if predicate():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{what}: not ready after {timeout} s:\n{self.text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the session this class started
                self.proc.wait()
        self.log.close()
        os.unlink(self.log.name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


# ---------------------------------------------------------------------------- llama.cpp

def llama_bench(tools: Path, gguf: Path, args: list[str], runs: int, threads: int = THREADS) -> tuple[dict, int]:
    """llama-bench with flash attention off and on; returns ({fa: median tok/s}, peak RSS)."""
    cmd = [str(tools / "llama-bench"), "-m", str(gguf), "-t", str(threads), "-fa", "off,on",
           "-r", str(runs), "-o", "json", *args]
    out, rss = run(cmd)
    rows = json.loads(out)
    return {("on" if r["flash_attn"] in (1, True, "on") else "off"): statistics.median(r["samples_ts"]) for r in rows}, rss


def llama_batched(tools: Path, gguf: Path, sequences: int, prompt: int, output: int) -> dict:
    cmd = [str(tools / "llama-batched-bench"), "-m", str(gguf), "-t", str(THREADS), "-tb", str(THREADS),
           "-c", str(sequences * (prompt + output) + 64), "-b", "2048", "-ub", "512",
           "-npp", str(prompt), "-ntg", str(output), "-npl", str(sequences), "--output-format", "jsonl"]
    out, _ = run(cmd)
    row = [json.loads(line) for line in out.splitlines() if line.startswith("{")][-1]
    row["output_tokens_per_second"] = row["pl"] * row["tg"] / row["t"]
    return row


def completion_client(url: str, requests: int, prompt: int, output: int, seed: int = 0) -> dict:
    """Fires `requests` /completion requests, CONCURRENCY in flight, random prompt ids in
    [100, 1000) (RadixServe's --vocab-range default), n_predict `output` with ignore_eos."""
    rng = random.Random(seed)
    prompts = [[rng.randrange(100, 1000) for _ in range(prompt)] for _ in range(requests + 2)]

    def one(ids):
        body = json.dumps({"prompt": ids, "n_predict": output, "ignore_eos": True, "temperature": 0,
                           "cache_prompt": False, "stream": False}).encode()
        req = urllib.request.Request(f"{url}/completion", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=3600) as resp:
            return json.loads(resp.read())["tokens_predicted"]

    for ids in prompts[:2]:  # warm-up, unmeasured
        one(ids)
    start = time.monotonic()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        generated = list(pool.map(one, prompts[2:]))
    seconds = time.monotonic() - start
    return {"requests": requests, "generated_tokens": sum(generated), "seconds": seconds,
            "output_tokens_per_second": sum(generated) / seconds}


def llama_http(tools: Path, gguf: Path, requests: int, prompt: int, output: int) -> dict:
    port = free_port()
    server = Server([str(tools / "llama-server"), "-m", str(gguf), "-t", str(THREADS), "-tb", str(THREADS),
                     "-np", str(CONCURRENCY), "-c", str(CONCURRENCY * (prompt + output + 16)),
                     "--host", "127.0.0.1", "--port", str(port), "--no-webui"])
    url = f"http://127.0.0.1:{port}"

    def healthy():
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False
    try:
        server.wait_for(healthy, "llama-server")
        return completion_client(url, requests, prompt, output)
    finally:
        server.stop()


# ---------------------------------------------------------------------------- RadixServe

def radix_single(binary: str, model: Path, prompt: int, decode: int, runs: int, flags: list[str],
                 threads: int = THREADS) -> tuple[dict, int]:
    out, rss = run([binary, "bench", "--model", str(model), "--threads", str(threads), "--runs", str(runs),
                    "--prompt-tokens", str(prompt), "--decode-tokens", str(decode), "--json"] + flags)
    return json.loads(out), rss


def radix_offline(binary: str, model: Path, requests: int, flags: list[str]) -> dict:
    out, _ = run([binary, "bench", "--model", str(model), "--threads", str(THREADS), "--kv-memory", "2G",
                  "--workload", "offline", "--requests", str(requests), "--prompt-tokens", str(OFFLINE_PROMPT),
                  "--output-tokens", str(OFFLINE_OUTPUT), "--concurrency", str(CONCURRENCY), "--json"] + flags)
    return json.loads(out.strip().splitlines()[-1])


def radix_http(binary: str, model: Path, requests: int, prompt: int, output: int, flags: list[str]) -> dict:
    server = Server([binary, "up", "--model", str(model), "--workers", "1", "--threads", str(THREADS),
                     "--kv-memory", "2G", "--http-port", "0", "--router-seed", "1"] + flags)
    try:
        server.wait_for(lambda: "Ctrl-C" in server.text(), "radixserve up")
        url = next(w for w in server.text().split() if w.startswith("http://")).rstrip(".,)")
        out, _ = run([binary, "bench", "--url", url, "--workload", "random", "--requests", str(requests),
                      "--prompt-tokens", str(prompt), "--output-tokens", str(output),
                      "--concurrency", str(CONCURRENCY), "--json"])
        return json.loads(out.strip().splitlines()[-1])
    finally:
        server.stop()


# ---------------------------------------------------------------------------- driver

SETTINGS = {
    # shape: prefill prompt tokens, decode tokens, runs per measurement, offline and http requests
    "full": {"56m": dict(prompt=512, decode=128, runs=5, requests=64),
             "1.1b": dict(prompt=128, decode=128, runs=3, requests=64)},
    "quick": {"56m": dict(prompt=512, decode=64, runs=2, requests=16)},
}
METRICS = [  # key, label, unit
    ("prefill", "prefill {prompt}", "tok/s"),
    ("decode", "decode batch 1", "tok/s"),
    ("offline", "offline {requests}×128/128, c16", "out tok/s"),
    ("http", "HTTP {requests}×128/128, 16 clients", "out tok/s"),
    ("decode_rss", "decode peak RSS", "MiB"),
    ("decode_1t", "decode batch 1, 1 thread (contention probe)", "tok/s"),
]


def measure(args, shape: str, dtype: str, s: dict, rnd: int, raw: list) -> None:
    model = args.models / f"llama-{shape}-{'f32' if dtype == 'q8_0' else dtype}"
    gguf = args.gguf / f"llama-{shape}-{dtype}.gguf"
    tools, binary = args.llama_bin, args.radixserve
    # llama.cpp's q8_0 file is converted from the f32 checkpoint; RadixServe quantizes the same one at load.
    flags = ["--quantize", "int8"] if dtype == "q8_0" else []

    def record(system, metric, value, detail=None):
        raw.append({"shape": shape, "dtype": dtype, "round": rnd, "system": system, "metric": metric,
                    "value": value, "load": load(), "detail": detail})
        print(f"  round {rnd} {shape} {dtype} {metric:<10} {system:<10} {value:10.1f}", flush=True)

    # prefill and decode: llama-bench twice, then one RadixServe single-workload run.
    pp, _ = llama_bench(tools, gguf, ["-p", str(s["prompt"]), "-n", "0"], s["runs"])
    record("llama.cpp", "prefill", max(pp.values()), pp)
    tg, rss = llama_bench(tools, gguf, ["-p", "0", "-n", str(s["decode"]), "-d", str(s["prompt"])], s["runs"])
    record("llama.cpp", "decode", max(tg.values()), tg)
    record("llama.cpp", "decode_rss", rss / 1024)
    single, rss = radix_single(binary, model, s["prompt"], s["decode"], s["runs"], flags)
    record("radixserve", "prefill", single["prefill_tokens_per_second"], single)
    record("radixserve", "decode", single["decode_tokens_per_second"], single)
    record("radixserve", "decode_rss", rss / 1024)
    # Contention probe: batch-1 decode on one thread. On a quiet host two threads beat one;
    # when other processes hold the cores, a thread that waits at a barrier for a descheduled
    # partner can make two threads slower than one, and the 2-thread rows above mislead.
    tg1, _ = llama_bench(tools, gguf, ["-p", "0", "-n", str(s["decode"]), "-d", str(s["prompt"])], s["runs"], threads=1)
    record("llama.cpp", "decode_1t", max(tg1.values()), tg1)
    single1, _ = radix_single(binary, model, s["prompt"], s["decode"], s["runs"], flags, threads=1)
    record("radixserve", "decode_1t", single1["decode_tokens_per_second"], single1)
    # offline batch
    batched = llama_batched(tools, gguf, CONCURRENCY, OFFLINE_PROMPT, OFFLINE_OUTPUT)
    record("llama.cpp", "offline", batched["output_tokens_per_second"], batched)
    offline = radix_offline(binary, model, s["requests"], flags)
    record("radixserve", "offline", offline["output_tokens_per_second"], offline)
    # HTTP serving
    http = llama_http(tools, gguf, s["requests"], OFFLINE_PROMPT, OFFLINE_OUTPUT)
    record("llama.cpp", "http", http["output_tokens_per_second"], http)
    http = radix_http(binary, model, s["requests"], OFFLINE_PROMPT, OFFLINE_OUTPUT, flags)
    record("radixserve", "http", http["output_tokens_per_second"], http)


def medians(raw: list, settings: dict) -> list[dict]:
    rows = []
    for shape, s in settings.items():
        for dtype in ("f32", "bf16", "q8_0"):
            for metric, label, unit in METRICS:
                values = {}
                for system in ("radixserve", "llama.cpp"):
                    v = [r["value"] for r in raw if (r["shape"], r["dtype"], r["metric"], r["system"]) == (shape, dtype, metric, system)]
                    values[system] = statistics.median(v) if v else None
                if values["llama.cpp"] is None and values["radixserve"] is None:
                    continue
                ratio = values["radixserve"] / values["llama.cpp"] if values["radixserve"] and values["llama.cpp"] else None
                rows.append({"shape": shape, "dtype": dtype, "metric": metric, "label": label.format(**s), "unit": unit,
                             "radixserve": values["radixserve"], "llama_cpp": values["llama.cpp"], "ratio": ratio})
    return rows


def table(rows: list[dict]) -> str:
    def fmt(v):
        return "none" if v is None else f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"
    lines = ["| model | weights | measurement | RadixServe | llama.cpp | RadixServe / llama.cpp |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        ratio = "–" if r["ratio"] is None else f"{r['ratio']:.2f}×"
        lines.append(f"| {r['shape']} | {r['dtype']} | {r['label']} ({r['unit']}) | {fmt(r['radixserve'])} | "
                     f"{fmt(r['llama_cpp'])} | {ratio} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", default="56m")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--radixserve", required=True)
    parser.add_argument("--llama-bin", type=Path, required=True)
    parser.add_argument("--models", type=Path, required=True)
    parser.add_argument("--gguf", type=Path, required=True)
    parser.add_argument("--host-json", type=Path, required=True, help="host description written by bench-peers.sh")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    mode = SETTINGS["quick" if args.quick else "full"]
    shapes = args.shapes.split(",")
    settings = {shape: mode[shape] for shape in shapes}
    report = {"host": json.loads(args.host_json.read_text()), "mode": "quick" if args.quick else "full",
              "rounds": args.rounds, "threads": THREADS, "concurrency": CONCURRENCY, "settings": settings,
              "started": time.strftime("%Y-%m-%d %H:%M:%S %z"), "load_at_start": load(), "raw": []}
    for rnd in range(1, args.rounds + 1):
        for shape in shapes:
            for dtype in ("f32", "bf16", "q8_0"):
                measure(args, shape, dtype, settings[shape], rnd, report["raw"])
                args.out.write_text(json.dumps(report, indent=1) + "\n")  # keep what is done so far
    report["load_at_end"] = load()
    report["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %z")
    report["medians"] = medians(report["raw"], settings)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    loads = [r["load"][0] for r in report["raw"]]
    print(f"\nmedians of {args.rounds} round(s), {THREADS} threads; 1-minute load during the run "
          f"{min(loads):.2f}–{max(loads):.2f}")
    print(table(report["medians"]))
    print(f"raw figures: {args.out}")


if __name__ == "__main__":
    main()
