"""What the fleet benchmarks share: the collector binary of a build, running it (timed, exit on
failure with its output), writing tree files, and the work directory."""
import json, os, subprocess, sys, tempfile, time


def collector_binary(build):
    return os.path.join(build, "collector", "seatlock-collector")


def work_dir(keep, prefix):
    """KEEP (created when missing) or a new temporary directory."""
    work = keep or tempfile.mkdtemp(prefix=prefix)
    os.makedirs(work, exist_ok=True)
    return work


def put(path, doc, indent=None):
    """Writes DOC as JSON to PATH, creating its directory."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(doc, f, indent=indent)


def run(collector, *args, out=None):
    """Runs the collector; returns (seconds, CompletedProcess). Exits the benchmark with the
    command's output when it fails."""
    t = time.monotonic()
    r = subprocess.run([collector, *args], stdout=out or subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if r.returncode != 0:
        sys.exit("%s failed: %s%s" % (" ".join(args[:3]), r.stdout or "", r.stderr))
    return time.monotonic() - t, r
