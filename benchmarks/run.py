"""Train the same networks in chainrule and in PyTorch in one run, alternating between them, and compare.

    python -m benchmarks.run            # full run: ~3 minutes on an idle 2-core machine, JSON to benchmarks/results/
    python -m benchmarks.run --quick    # fewer rounds and steps: about a minute
    python benchmarks/run.py --json out.json --workloads cnn-b32,mlp-b32 --ops none
    python -m benchmarks.run --workloads loop-mlp-b32,loop-cnn-b32 --ops none    # seed 003's loop only
    python -m benchmarks.run --device gpu    # on a GPU: chainrule on CuPy against PyTorch CUDA (benchmarks/gpu.py)

Each framework runs in its own persistent worker process (benchmarks/worker.py, started with 'spawn', so each
imports only its own framework; a fresh pair per training workload, so each peak RSS belongs to one workload);
this process only orchestrates. A workload is timed in rounds of k training steps:
one untimed warm-up round, then several timed ones, chainrule and torch taking turns (the order flips every round),
and the medians are quoted. Nothing is asserted about the times: this is an instrument, not a test.

Per workload: the median time per epoch (the per-step time scaled to 60,000 images), the ratio chainrule/torch,
each worker's peak RSS (``ru_maxrss``) and its increase over the worker's peak right after import, and the achieved
GFLOP/s (3x the analytic forward FLOPs, see benchmarks/workloads.py) next to NumPy's float32 matmul peak measured
in the same run. Per op: forward and backward (given a forward) times of the ops the seed CNN spends its time in.
A full run's JSON, table included, is kept in benchmarks/reference/ to compare with.

Seed 003's loop (the ``loop-*`` workloads, ``LOOPS`` in benchmarks/workloads.py; JSON ``loops``): a hand-written
``train_step`` (``tf.GradientTape``, then ``optimizer.apply_gradients``) over ``tf.data.Dataset.from_tensor_slices(
(x, y)).batch(32)``, in three chainrule modes, each its own model in the one chainrule worker: ``fit`` (model.fit on
the same arrays), ``eager`` (the loop as written) and ``function`` (``train_step`` under ``@tf.function``), next to
torch's hand-written loop; the four take turns in each round (the starting one moves by one every round). Per
network: each mode's time per epoch, eager/fit and tf.function/fit against the project's goals (``LOOP_GOALS``), and
each mode / torch.
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):  # run as `python benchmarks/run.py`: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import sequences, text_classifier, transformer
from benchmarks.workloads import (EPOCH_IMAGES, LOOP_GOALS, LOOP_MODES, LOOPS, MODES, NETWORKS, OPS, TRAINING,
                                  count_params, forward_flops, steps_for, train_gflop_per_epoch)

SIDES = ("chainrule", "torch")
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "latest.json"
SCHEMA = "chainrule-benchmark/1"
LOOP_LABELS = {"fit": "fit", "eager": "eager", "function": "tf.function"}  # the loop modes' names in the table


# --- workers ----------------------------------------------------------------------------------------------------------
def _serve(conn, side: str) -> None:
    """Process target; imports the worker module (and NumPy) only in the child."""
    from benchmarks.worker import serve

    serve(conn, side)


class WorkerError(RuntimeError):
    pass


class Worker:
    """One framework's worker process and the pipe to it."""

    def __init__(self, ctx, side: str):
        self.side = side
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, side), name=f"benchmark-{side}", daemon=True)
        self.proc.start()
        child.close()
        self.hello = None

    def _recv(self):
        try:
            status, result = self.conn.recv()  # EOF when the worker exits: main holds no copy of its end
        except (EOFError, OSError):
            self.proc.join(5)
            raise WorkerError(f"the {self.side} worker died (exit code {self.proc.exitcode})") from None
        if status != "ok":
            raise WorkerError(f"{self.side} worker: {result}")
        return result

    def wait_ready(self) -> dict:
        self.hello = self._recv()
        return self.hello

    def call(self, command: str, **kwargs):
        self.conn.send((command, kwargs))
        return self._recv()

    def close(self) -> None:
        if self.proc.is_alive():
            try:
                self.conn.send(("stop", {}))
                self.conn.poll(5)
            except (OSError, EOFError):
                pass
            self.proc.join(5)
            if self.proc.is_alive():
                self.proc.terminate()
                self.proc.join(5)
        self.conn.close()


def start_pair(ctx) -> dict[str, Worker]:
    """Both workers, started together (their imports overlap), ready to take commands."""
    pair = {side: Worker(ctx, side) for side in SIDES}
    try:
        for worker in pair.values():
            worker.wait_ready()
    except BaseException:
        close_pair(pair)
        raise
    return pair


def close_pair(pair: dict[str, Worker] | None) -> None:
    for worker in (pair or {}).values():
        worker.close()


def alternate(pair: dict[str, Worker], command: str, kwargs: dict, warmup: int, rounds: int, settle: float):
    """Run ``command`` on both workers for warmup + rounds rounds, taking turns (the order flips every round, and
    ``settle`` seconds pass between turns so the other side's spinning threads go quiet); return the timed rounds'
    results per side."""
    return take_turns(pair, command, [(side, side, kwargs) for side in SIDES], warmup, rounds, settle)


def take_turns(pair: dict[str, Worker], command: str, turns: list[tuple[str, str, dict]], warmup: int, rounds: int,
               settle: float) -> dict[str, list]:
    """``turns``: (label, side, kwargs). Each round runs ``command`` once per turn, round r starting at turn
    r mod len(turns) (two turns: the order flips every round), ``settle`` seconds between turns; return the timed
    rounds' results per label."""
    results = {label: [] for label, _, _ in turns}
    for r in range(warmup + rounds):
        start = r % len(turns)
        for label, side, kwargs in turns[start:] + turns[:start]:
            result = pair[side].call(command, **kwargs)
            if r >= warmup:
                results[label].append(result)
            if settle:
                time.sleep(settle)
    return results


# --- measurements -----------------------------------------------------------------------------------------------------
def measure_sgemm(pair, n: int, repeats: int) -> dict:
    return {"n": n, "repeats": repeats, "numpy_gflops": pair["chainrule"].call("sgemm", n=n, repeats=repeats),
            "torch_gflops": pair["torch"].call("sgemm", n=n, repeats=repeats)}


def workload_row(name: str, network: str, batch: int, steps: int, cfg: dict) -> dict:
    return {"name": name, "network": network, "batch": batch, "steps_per_round": steps, "rounds": cfg["rounds"],
            "warmup_rounds": cfg["warmup"], "params_expected": count_params(NETWORKS[network]),
            "forward_mflop_per_image": forward_flops(NETWORKS[network]) / 1e6,
            "train_gflop_per_epoch": train_gflop_per_epoch(NETWORKS[network])}


def round_stats(rounds: list[dict], steps: int, batch: int, gflop_epoch: float, peak_gflops: float | None) -> dict:
    """The timed rounds of one trainer: wall and CPU times, and the median step scaled to an epoch."""
    wall, cpu = [r["wall_s"] for r in rounds], [r["cpu_s"] for r in rounds]
    step_s = statistics.median(t / steps for t in wall)
    epoch_s = step_s * EPOCH_IMAGES / batch
    gflops = gflop_epoch / epoch_s
    return {"round_s": wall, "round_cpu_s": cpu,
            "cores_busy_median": statistics.median(c / w for c, w in zip(cpu, wall)),
            "step_s_median": step_s, "epoch_s": epoch_s, "gflops": gflops,
            "percent_of_numpy_sgemm": 100 * gflops / peak_gflops if peak_gflops else None}


def worker_memory(worker: Worker) -> dict:
    after_import = worker.hello["memory_after_import"]["peak_rss_mb"]
    mem = worker.call("memory")
    return {"after_import_peak_rss_mb": after_import, **mem, "increase_mb": mem["peak_rss_mb"] - after_import}


def paired_median(a: list[dict], b: list[dict]) -> float:
    """The median over rounds of a's time / b's time in the same round."""
    return statistics.median(x["wall_s"] / y["wall_s"] for x, y in zip(a, b))


def measure_training(pair, name: str, cfg: dict, peak_gflops: float | None) -> dict:
    network, batch, full_steps = TRAINING[name]
    steps = steps_for(full_steps, cfg["step_scale"])
    row = workload_row(name, network, batch, steps, cfg)
    setup = {side: pair[side].call("setup_train", network=network, batch=batch, steps=steps, seed=0)
             for side in SIDES}
    rounds = alternate(pair, "train_round", {}, cfg["warmup"], cfg["rounds"], cfg["settle"])
    for side in SIDES:
        row[side] = {**setup[side], **round_stats(rounds[side], steps, batch, row["train_gflop_per_epoch"],
                                                  peak_gflops), "memory": worker_memory(pair[side])}
    row["ratio"] = row["chainrule"]["epoch_s"] / row["torch"]["epoch_s"]
    row["ratio_paired_median"] = paired_median(rounds["chainrule"], rounds["torch"])
    return row


def measure_loop(pair, name: str, cfg: dict, peak_gflops: float | None) -> dict:
    """Seed 003's loop: chainrule's LOOP_MODES (one worker, a model each) and torch's loop, taking turns."""
    network, batch, full_steps = LOOPS[name]
    steps = steps_for(full_steps, cfg["step_scale"])
    row = {**workload_row(name, network, batch, steps, cfg), "modes": list(LOOP_MODES), "goals": dict(LOOP_GOALS)}
    setup = {side: pair[side].call("setup_loop", network=network, batch=batch, steps=steps, seed=0)
             for side in SIDES}
    turns = [(mode, "chainrule", {"mode": mode}) for mode in LOOP_MODES] + [("torch", "torch", {})]
    rounds = take_turns(pair, "train_round", turns, cfg["warmup"], cfg["rounds"], cfg["settle"])
    stats = {label: round_stats(rounds[label], steps, batch, row["train_gflop_per_epoch"], peak_gflops)
             for label in rounds}
    # the chainrule worker's memory covers all its modes: their models, and the arrays and dataset they share
    row["chainrule"] = {**setup["chainrule"], "memory": worker_memory(pair["chainrule"]),
                        **{mode: stats[mode] for mode in LOOP_MODES}}
    row["torch"] = {**setup["torch"], **stats["torch"], "memory": worker_memory(pair["torch"])}
    fit = stats["fit"]["epoch_s"]
    row["ratio_to_fit"] = {mode: stats[mode]["epoch_s"] / fit for mode in LOOP_MODES if mode != "fit"}
    row["ratio_to_fit_paired_median"] = {mode: paired_median(rounds[mode], rounds["fit"])
                                         for mode in row["ratio_to_fit"]}
    row["meets_goal"] = {mode: row["ratio_to_fit"][mode] <= goal for mode, goal in LOOP_GOALS.items()}
    row["ratio_to_torch"] = {mode: stats[mode]["epoch_s"] / stats["torch"]["epoch_s"] for mode in LOOP_MODES}
    row["ratio_to_torch_paired_median"] = {mode: paired_median(rounds[mode], rounds["torch"]) for mode in LOOP_MODES}
    return row


def measure_op(pair, name: str, cfg: dict) -> dict:
    description, shapes = OPS[name]
    batch = cfg["op_batch"]
    row = {"name": name, "description": description, "shapes": shapes(batch), "batch": batch,
           "reps_per_round": cfg["op_reps"], "rounds": cfg["rounds"]}
    rounds = alternate(pair, "op", {"name": name, "batch": batch, "reps": cfg["op_reps"]}, cfg["warmup"],
                       cfg["rounds"], cfg["settle"])
    for side in SIDES:
        fwd = [t for r in rounds[side] for t in r["forward_ms"]]
        bwd = [t for r in rounds[side] for t in r["backward_ms"]]
        row[side] = {"forward_ms": fwd, "backward_ms": bwd, "forward_ms_median": statistics.median(fwd),
                     "backward_ms_median": statistics.median(bwd)}
    for phase in ("forward", "backward"):
        row[f"ratio_{phase}"] = row["chainrule"][f"{phase}_ms_median"] / row["torch"][f"{phase}_ms_median"]
    return row


def machine_info() -> dict:
    model = None
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), None)
    except OSError:
        pass
    return {"cpu_count": os.cpu_count(),
            "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "cpu_model": model or platform.processor() or None, "platform": platform.platform(),
            "python": platform.python_version(),
            "thread_env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
                           if k in os.environ}}


def git_info() -> dict | None:
    """The commit measured, and whether chainrule/ had uncommitted changes (None outside a git checkout)."""
    root = Path(__file__).resolve().parent.parent

    def git(*args):
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10,
                              check=True).stdout.strip()

    try:
        return {"commit": git("rev-parse", "HEAD"), "chainrule_dirty": bool(git("status", "--porcelain", "--",
                                                                                   "chainrule"))}
    except (OSError, subprocess.SubprocessError):
        return None


def loadavg():
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


# --- the run ---------------------------------------------------------------------------------------------------------
def run(cfg: dict, workloads: list[str], ops: list[str], log=print) -> dict:
    """Measure everything; return the report. A failure is recorded under ``errors`` and the rest still runs."""
    ctx = multiprocessing.get_context("spawn")
    report = {"schema": SCHEMA, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "settings": {**cfg, "epoch_images": EPOCH_IMAGES}, "git": git_info(), "machine": machine_info(),
              "loadavg_start": loadavg(), "sgemm": None, "training": [], "loops": [], "transformer": [], "ops": [],
              "sequences": [], "text": [], "errors": []}
    shared = None

    def attempt(label: str, measure):
        """measure(pair) on the shared pair or on a fresh one (closed after); None and an error entry on failure."""
        log(f"{label} ...")
        try:
            pair = shared or start_pair(ctx)
            try:
                return measure(pair)
            finally:
                if pair is not shared:
                    close_pair(pair)
        except WorkerError as error:
            log(f"  ! {label}: {str(error).strip().splitlines()[-1]}")
            report["errors"].append({"what": label, "error": str(error)})
            return None

    def machine_and_ops(pair):
        for side in SIDES:
            report["machine"][side] = {**pair[side].call("info"), "import_s": pair[side].hello["import_s"]}
        report["sgemm"] = measure_sgemm(pair, cfg["sgemm_n"], cfg["sgemm_reps"])
        for name in ops:
            try:
                report["ops"].append(measure_op(pair, name, cfg))
            except WorkerError as error:
                if "worker died" in str(error):
                    raise
                log(f"  ! op {name}: {str(error).strip().splitlines()[-1]}")
                report["errors"].append({"what": f"op {name}", "error": str(error)})

    try:
        if not cfg["fresh_workers"]:
            try:
                shared = start_pair(ctx)
            except WorkerError as error:
                report["errors"].append({"what": "start workers", "error": str(error)})
                return _finish(report)
        attempt(f"machine info, sgemm and {len(ops)} ops", machine_and_ops)
        peak = (report["sgemm"] or {}).get("numpy_gflops")
        for name in workloads:
            if name in LOOPS:
                row = attempt(f"loop {name}", lambda pair: measure_loop(pair, name, cfg, peak))
                if row:
                    report["loops"].append(row)
            elif name in transformer.WORKLOADS:
                row = attempt(f"train {name}", lambda pair: transformer.measure(pair, name, cfg, peak))
                if row:
                    report["transformer"].append(row)
            elif name in sequences.WORKLOADS:
                row = attempt(f"train {name}", lambda pair: sequences.measure(pair, name, cfg, peak))
                if row:
                    report["sequences"].append(row)
            elif name in text_classifier.WORKLOADS:
                row = attempt(f"train {name}", lambda pair: text_classifier.measure(pair, name, cfg, peak))
                if row:
                    report["text"].append(row)
            else:
                row = attempt(f"train {name}", lambda pair: measure_training(pair, name, cfg, peak))
                if row:
                    report["training"].append(row)
    finally:
        close_pair(shared)
    return _finish(report)


def _finish(report: dict) -> dict:
    report["loadavg_end"] = loadavg()
    # the orchestrator must stay light: a framework imported here would inflate every later worker's ru_maxrss
    report["imported_in_main"] = sorted(m for m in ("numpy", "torch", "chainrule") if m in sys.modules)
    return report


# --- the report -------------------------------------------------------------------------------------------------------
def _num(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"


def _table(headers: list[str], rows: list[list[str]], text_columns: int = 1) -> list[str]:
    """Aligned rows: the first ``text_columns`` columns to the left, the numbers to the right."""
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows)]
    fmt = lambda cells: "  ".join(  # noqa: E731
        str(c).ljust(w) if i < text_columns else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    return [fmt(headers), "  ".join("-" * w for w in widths), *map(fmt, rows)]


def _shape_text(shapes: dict) -> str:
    dims = lambda shape: "x".join(map(str, shape))  # noqa: E731
    if shapes["kind"] == "conv":
        return f"{dims(shapes['x'])} * {dims(shapes['kernel'])} {shapes['padding']}"
    if shapes["kind"] == "conv_pool":
        return f"{dims(shapes['x'])} * {dims(shapes['kernel'])}, pool {shapes['size']}"
    if shapes["kind"] == "dense":
        return f"{dims(shapes['x'])} @ {shapes['x'][1]}x{shapes['units']}"
    return dims(shapes.get("x") or shapes.get("logits"))


def format_report(report: dict) -> str:
    cfg, m = report["settings"], report["machine"]
    cr, th = m.get("chainrule", {}), m.get("torch", {})
    blas = cr.get("blas", {})
    lines = [f"chainrule vs PyTorch: {cfg['mode']} run, {report['created']}",
             f"machine: {m['cpu_count']} CPUs ({m['cpu_model']}), {m['platform']}, Python {m['python']}",
             f"numpy {cr.get('numpy', '?')} with {blas.get('name', '?')} {blas.get('version', '')} "
             f"({blas.get('threads', '?')} BLAS threads); torch {th.get('version', '?')} "
             f"({th.get('threads', '?')} threads, {th.get('interop_threads', '?')} interop); default thread settings"]
    if report.get("sgemm"):
        s = report["sgemm"]
        lines.append(f"float32 matmul peak ({s['n']}x{s['n']}, best of {s['repeats']}): numpy "
                     f"{_num(s['numpy_gflops'])} GFLOP/s, torch {_num(s['torch_gflops'])} GFLOP/s")
    load = lambda key: "/".join(f"{v:.2f}" for v in report[key]) if report.get(key) else "?"  # noqa: E731
    lines.append(f"load average (1/5/15 min) at start {load('loadavg_start')}, at end {load('loadavg_end')}")
    lines.append(f"{cfg['warmup']} untimed warm-up round(s), then {cfg['rounds']} timed, chainrule and torch "
                 f"alternating; medians")
    if report["training"]:
        lines += ["", f"Training: time per epoch of {EPOCH_IMAGES:,} images (median step time scaled), Adam(1e-3), "
                      "categorical cross-entropy; chainrule model.fit vs a torch loop",
                  "ratio = chainrule / torch (above 1: chainrule slower), paired = median of the per-round ratios; "
                  "GFLOP/s = 3 x analytic forward FLOPs / time;",
                  "cores = CPU time / wall time (median round; well below the thread count: another process had "
                  "the CPU);",
                  "peak MB = each worker's ru_maxrss (increase over its value right after import; it includes the "
                  "training data the worker holds, data_mb in the JSON)"]
        rows = []
        for r in report["training"]:
            c, t = r["chainrule"], r["torch"]
            mem = lambda side: f"{side['memory']['peak_rss_mb']:.0f} (+{side['memory']['increase_mb']:.0f})"  # noqa
            rows.append([r["name"], r["batch"], r["steps_per_round"], _num(r["train_gflop_per_epoch"]),
                         _num(c["epoch_s"]), _num(t["epoch_s"]), f"{r['ratio']:.2f}x",
                         f"{r['ratio_paired_median']:.2f}x", _num(c["gflops"]), _num(t["gflops"]),
                         f"{_num(c['percent_of_numpy_sgemm'])}%",
                         f"{c['cores_busy_median']:.1f}/{t['cores_busy_median']:.1f}", mem(c), mem(t)])
        lines += _table(["workload", "batch", "steps", "GFLOP/ep", "chainrule s/ep", "torch s/ep", "ratio",
                         "paired", "cr GFLOP/s", "torch GFLOP/s", "cr %sgemm", "cores cr/torch", "cr peak MB",
                         "torch peak MB"], rows)
    if report.get("loops"):
        goals = ", ".join(f"{LOOP_LABELS[mode]} <= {goal}x" for mode, goal in LOOP_GOALS.items())
        lines += ["", f"Seed 003's loop: time per epoch of {EPOCH_IMAGES:,} images (median step time scaled), "
                      "Adam(1e-3), categorical cross-entropy; chainrule's train_step (GradientTape + "
                      "optimizer.apply_gradients)",
                  "over Dataset.from_tensor_slices((x, y)).batch(B), run eagerly and under @tf.function, next to "
                  "model.fit on the same data and torch's hand-written loop (zero_grad, backward, step);",
                  f"MODE/fit = the mode's time / fit's (goals: {goals}; 'over' = goal missed), MODE/torch = the "
                  "mode's time / torch's; paired medians in the JSON; cr peak MB: the one worker of all three modes"]
        rows = []
        for r in report["loops"]:
            c, t = r["chainrule"], r["torch"]
            to_fit = lambda mode: (f"{r['ratio_to_fit'][mode]:.2f}x"  # noqa: E731
                                   + ("" if r["meets_goal"].get(mode, True) else " over"))
            mem = lambda side: f"{side['memory']['peak_rss_mb']:.0f} (+{side['memory']['increase_mb']:.0f})"  # noqa
            rows.append([r["name"], r["batch"], r["steps_per_round"],
                         *(_num(c[mode]["epoch_s"]) for mode in LOOP_MODES), _num(t["epoch_s"]),
                         *(to_fit(mode) for mode in LOOP_MODES if mode != "fit"),
                         *(f"{r['ratio_to_torch'][mode]:.2f}x" for mode in LOOP_MODES), mem(c), mem(t)])
        lines += _table(["workload", "batch", "steps", *(f"{LOOP_LABELS[m]} s/ep" for m in LOOP_MODES), "torch s/ep",
                         *(f"{LOOP_LABELS[m]}/fit" for m in LOOP_MODES if m != "fit"),
                         *(f"{LOOP_LABELS[m]}/torch" for m in LOOP_MODES), "cr peak MB", "torch peak MB"], rows)
    if report.get("transformer"):
        lines += transformer.table_lines(report["transformer"], _num)
    if report.get("text"):
        lines += text_classifier.table_lines(report["text"], _num)
    if report.get("sequences"):
        lines += sequences.table_lines(report["sequences"], _num)
    if report["ops"]:
        lines += ["", f"Per op (median ms over {cfg['rounds']} rounds x {cfg['op_reps']} reps; backward = one "
                      "backward pass given a forward; chainrule NHWC, torch NCHW)"]
        rows = [[r["name"], _shape_text(r["shapes"]), _num(r["chainrule"]["forward_ms_median"]),
                 _num(r["torch"]["forward_ms_median"]), f"{r['ratio_forward']:.2f}x",
                 _num(r["chainrule"]["backward_ms_median"]), _num(r["torch"]["backward_ms_median"]),
                 f"{r['ratio_backward']:.2f}x"] for r in report["ops"]]
        lines += _table(["op", "shape (chainrule)", "cr fwd", "torch fwd", "ratio", "cr bwd", "torch bwd", "ratio"],
                        rows, text_columns=2)
    if report["errors"]:
        lines += ["", "ERRORS:"] + [f"  {e['what']}: {e['error'].strip().splitlines()[-1]}" for e in report["errors"]]
    return "\n".join(lines)


def write_json(report: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=1) + "\n")
    os.replace(tmp, path)


def _names(text: str | None, known: dict, what: str, parser) -> list[str]:
    if text is None:
        return list(known)
    names = [n for n in text.split(",") if n and n != "none"]
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown {what} {', '.join(unknown)}; choose from {', '.join(known)} (or 'none')")
    return names


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--device" in argv:  # the GPU benchmark (benchmarks/gpu.py) takes the rest of the arguments
        at = argv.index("--device")
        device = argv[at + 1] if at + 1 < len(argv) else ""
        if device not in ("gpu", "cpu"):
            print(f"python -m benchmarks.run: --device must be 'cpu' or 'gpu', got {device!r}", file=sys.stderr)
            return 2
        argv = argv[:at] + argv[at + 2:]
        if device == "gpu":
            from benchmarks import gpu
            return gpu.main(argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="fewer rounds and steps (a couple of minutes)")
    size.add_argument("--tiny", action="store_true", help="2 steps, tiny op shapes, one round: proves it runs")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON,
                        help="where to write the results (default benchmarks/results/latest.json)")
    parser.add_argument("--workloads", help=f"comma-separated, of "
                                            f"{', '.join([*TRAINING, *LOOPS, *transformer.WORKLOADS])}, "
                                            f"{', '.join([*sequences.WORKLOADS, *text_classifier.WORKLOADS])} "
                                            f"(default all; 'none')")
    parser.add_argument("--ops", help=f"comma-separated, of {', '.join(OPS)} (default all; 'none')")
    parser.add_argument("--rounds", type=int, help="timed rounds (override the mode's)")
    parser.add_argument("--warmup", type=int, help="untimed warm-up rounds (override the mode's)")
    parser.add_argument("--steps-scale", type=float, help="multiply each workload's full-run steps per round")
    parser.add_argument("--settle", type=float, help="seconds of quiet between the frameworks' turns (default 0.25)")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "tiny" if args.tiny else "full"
    cfg = dict(MODES[mode], mode=mode, settle=0.0 if mode == "tiny" else 0.25)
    for option, key in (("rounds", "rounds"), ("warmup", "warmup"), ("steps_scale", "step_scale"),
                        ("settle", "settle")):  # (--steps-scale sets the modes' step_scale)
        if getattr(args, option) is not None:
            cfg[key] = getattr(args, option)
    if cfg["rounds"] < 1 or cfg["warmup"] < 0:
        parser.error("--rounds must be at least 1 and --warmup at least 0")
    workloads = _names(args.workloads, {**TRAINING, **LOOPS, **transformer.WORKLOADS, **text_classifier.WORKLOADS,
                                        **sequences.WORKLOADS}, "workload", parser)
    ops = _names(args.ops, OPS, "op", parser)
    started = time.perf_counter()
    report = run(cfg, workloads, ops, log=lambda message: print(message, file=sys.stderr, flush=True))
    report["command"] = ["python", "-m", "benchmarks.run", *argv]
    report["wall_s"] = time.perf_counter() - started
    report["table"] = format_report(report)
    print(report["table"])
    write_json(report, args.json)
    print(f"\nwrote {args.json} ({report['wall_s']:.0f} s)")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
