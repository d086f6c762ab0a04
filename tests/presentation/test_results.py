"""Results are written atomically and read back strictly: a process killed at any moment (a real
SIGKILL) never leaves a file that reads as valid but is corrupt, and a damaged file is reported
by name."""
from __future__ import annotations

import hashlib
import json
import math
import os
import random
import signal
import stat
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from conservae_lib.foundations import files
from conservae_lib.presentation import results
from conservae_lib.foundations.files import CorruptResultError

ROOT = Path(__file__).resolve().parents[2]
MAGIC = b"CONSERVAE-TEST"

# The child loads files.py by path (no torch import: it starts in a fraction of a second).
CHILD = textwrap.dedent("""
    import hashlib, importlib.util, os, signal, struct, sys
    spec = importlib.util.spec_from_file_location("files", sys.argv[1])
    files = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(files)
    mode, folder = sys.argv[2], sys.argv[3]

    def blob(i):
        payload = (b"%08d" % i) * (1_000_000 + 37 * i)  # ~8 MB, a different size each time
        return b"CONSERVAE-TEST" + struct.pack("<Q", len(payload)) + hashlib.sha256(payload).digest() + payload

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    if mode == "loop":  # write forever until killed
        i = 0
        while True:
            files.atomic_write_bytes(os.path.join(folder, "big.bin"), blob(i))
            files.save_json(os.path.join(folder, "summary.json"), {"i": i, "values": [i] * (1000 + i)})
            i += 1
    elif mode in ("die-mid-write", "naive-die-mid-write"):  # version 1, then killed while writing version 2
        files.atomic_write_bytes(os.path.join(folder, "big.bin"), blob(1))
        os.fsync = die  # the kill lands after the new bytes are written, before anything is renamed
        if mode == "naive-die-mid-write":
            with open(os.path.join(folder, "big.bin"), "wb") as fh:
                fh.write(blob(2)[: 3_000_000])
                os.fsync(fh.fileno())
        files.atomic_write_bytes(os.path.join(folder, "big.bin"), blob(2))
""")


def _child(mode: str, folder: Path) -> subprocess.Popen:
    script = folder.parent / f"child_{folder.name}.py"
    script.write_text(CHILD)
    return subprocess.Popen([sys.executable, str(script), str(ROOT / "conservae_lib" / "foundations" / "files.py"), mode, str(folder)])


def valid_blob(path: Path) -> bool:
    """True when ``path`` holds a complete blob written by the child (header, length, checksum)."""
    data = path.read_bytes()
    head = len(MAGIC) + 8 + 32
    if len(data) < head or not data.startswith(MAGIC):
        return False
    (length,) = struct.unpack("<Q", data[len(MAGIC):len(MAGIC) + 8])
    payload = data[head:]
    return len(payload) == length and hashlib.sha256(payload).digest() == data[len(MAGIC) + 8:head]


def check_folder(folder: Path, pid: int) -> list[Path]:
    """Every file a reader would open is complete; return the leftover temporaries of ``pid``."""
    temporaries = []
    for path in folder.iterdir():
        if path.name.endswith(".tmp"):
            assert path.name.startswith((f".big.bin.{pid}-", f".summary.json.{pid}-")), path.name
            temporaries.append(path)
        elif path.name == "big.bin":
            assert valid_blob(path), "big.bin is partial"
        elif path.name == "summary.json":
            summary = files.load_json(path)
            assert summary["values"] == [summary["i"]] * (1000 + summary["i"])
        else:
            raise AssertionError(f"unexpected file {path.name}")
    return temporaries


@pytest.mark.slow
def test_kills_at_random_moments_never_leave_a_partial_file(tmp_path: Path) -> None:
    rng = random.Random(0)
    leftovers = 0
    for round_ in range(6):
        folder = tmp_path / f"round{round_}"
        folder.mkdir()
        proc = _child("loop", folder)
        deadline = time.monotonic() + 60
        while not (folder / "summary.json").exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.5))
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        temporaries = check_folder(folder, proc.pid)
        leftovers += len(temporaries)
        # The next write of the same file removes what the killed writer left behind.
        files.atomic_write_bytes(folder / "big.bin", (folder / "big.bin").read_bytes())
        files.save_json(folder / "summary.json", files.load_json(folder / "summary.json"))
        assert check_folder(folder, proc.pid) == []
    print(f"6 kills, {leftovers} temporaries left mid-write, every readable file complete")


def test_a_writer_killed_mid_write_leaves_the_old_file_intact(tmp_path: Path) -> None:
    folder = tmp_path / "atomic"
    folder.mkdir()
    proc = _child("die-mid-write", folder)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    assert valid_blob(folder / "big.bin")
    assert (folder / "big.bin").read_bytes()[len(MAGIC) + 40:][:8] == b"00000001"  # still version 1
    temporaries = check_folder(folder, proc.pid)
    assert len(temporaries) == 1 and temporaries[0].stat().st_size > 1_000_000  # the unfinished version 2
    assert files.remove_stale_temporaries(folder / "big.bin") == temporaries
    assert sorted(p.name for p in folder.iterdir()) == ["big.bin"]


def test_the_check_catches_a_non_atomic_writer(tmp_path: Path) -> None:
    """The same kill against a plain ``open(..., "wb")`` leaves a partial file that the check rejects,
    so the tests above would fail if writes were not atomic."""
    folder = tmp_path / "naive"
    folder.mkdir()
    proc = _child("naive-die-mid-write", folder)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    assert not valid_blob(folder / "big.bin")
    with pytest.raises(AssertionError, match="partial"):
        check_folder(folder, proc.pid)


def test_a_live_writers_temporary_is_never_removed(tmp_path: Path) -> None:
    """Only temporaries of dead processes on this machine go; a live writer's (this process, its
    parent) and another machine's (same pid, other host tag) stay."""
    target = tmp_path / "x.json"
    host = files._host_tag()
    mine = tmp_path / f".x.json.{os.getpid()}-{host}.abc.tmp"
    parent = tmp_path / f".x.json.{os.getppid()}-{host}.abc.tmp"
    dead_pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout.strip()
    elsewhere = tmp_path / f".x.json.{dead_pid}-00000000.abc.tmp"
    dead_here = tmp_path / f".x.json.{dead_pid}-{host}.abc.tmp"
    for path in (mine, parent, elsewhere, dead_here):
        path.write_bytes(b"in progress")
    files.save_json(target, {"a": 1})
    assert mine.exists() and parent.exists() and elsewhere.exists()
    assert not dead_here.exists()


# ----------------------------------------------------------------- reading back
def test_json_round_trip_is_exact_and_json_safe(tmp_path: Path) -> None:
    obj = {"a": 1, "b": [0.1, 2.5e-8], "nan": float("nan"), "inf": [math.inf], "np": np.float32(0.5),
           "arr": np.arange(3), "nested": {"t": (1, 2)}}
    path = files.save_json(tmp_path / "sub" / "r.json", obj)
    assert files.load_json(path) == {"a": 1, "b": [0.1, 2.5e-8], "nan": None, "inf": [None], "np": 0.5,
                                       "arr": [0, 1, 2], "nested": {"t": [1, 2]}}
    assert path.read_text() == json.dumps(files.load_json(path), indent=1, sort_keys=True) + "\n"


def test_written_files_are_readable_by_others(tmp_path: Path) -> None:
    path = files.save_json(tmp_path / "r.json", {"a": 1})
    assert stat.S_IMODE(path.stat().st_mode) & 0o044 == 0o044 & ~_umask()
    path.chmod(0o600)
    files.save_json(path, {"a": 2})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # a replaced file keeps its mode


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("content", [b"", b'{"claims": [1, 2', b"\x00\xff\xfe garbage", b'{"a": 1}}'])
def test_a_damaged_results_file_is_reported_by_name(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "summary.json"
    path.write_bytes(content)
    with pytest.raises(CorruptResultError) as info:
        files.load_json(path)
    message = str(info.value)
    assert str(path) in message and "delete it and re-run" in message and "\n" not in message


def test_a_truncated_summary_is_reported_and_a_missing_one_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path))
    assert results.load_summary("chapter", "smoke") is None
    path = results.save_summary({"chapter": "chapter", "profile": "smoke"}, {"claims": [{"id": "x"}] * 50})
    assert results.load_summary("chapter", "smoke")["claims"][0] == {"id": "x"}
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptResultError, match=str(path)):
        results.load_summary("chapter", "smoke")
    files.save_json(path, [1, 2, 3])
    with pytest.raises(CorruptResultError, match="not a chapter summary"):
        results.load_summary("chapter", "smoke")


# ----------------------------------------------------------------------------- published results kept apart
def _tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_readme_override_seed_3_leaves_the_published_smoke_results_byte_identical(tmp_path, monkeypatch, capsys):
    from conservae_lib.tooling import profiles

    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path))
    chapter = "conservative_autoencoders"
    published = results.save_summary(profiles.configure(chapter, "smoke"), {"claims": [], "value": 0})
    assert published == tmp_path / "smoke" / chapter / "summary.json"
    assert capsys.readouterr().out == ""  # a published run prints nothing
    before = _tree_bytes(tmp_path / "smoke")
    # the README's example: -p seed 3
    custom = results.save_summary(profiles.configure(chapter, "smoke", seed=3), {"claims": [], "value": 3})
    assert _tree_bytes(tmp_path / "smoke") == before
    assert custom.parent.parent.parent == tmp_path / "custom"
    assert custom.parent.parent.name.startswith("smoke-") and len(custom.parent.parent.name) == len("smoke-") + 8
    assert custom.parent.name == chapter
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "seed" in out and "custom" in out
    prov = files.load_json(custom)["provenance"]
    assert prov["overrides"] == ["seed"] and prov["parameters"]["seed"] == 3 and prov["profile"] == "smoke"
    # the same overrides land in the same folder, different ones elsewhere
    again = results.save_summary(profiles.configure(chapter, "smoke", seed=3), {"claims": []})
    other = results.save_summary(profiles.configure(chapter, "smoke", seed=4), {"claims": []})
    assert again == custom and other != custom
    assert _tree_bytes(tmp_path / "smoke") == before


def test_save_summary_needs_the_chapters_cfg():
    with pytest.raises(ValueError, match="cfg"):
        results.save_summary("conservative_autoencoders", {"claims": []})


def test_summary_records_parameters_profile_data_digest_and_commit(tmp_path, monkeypatch):
    from conservae_lib.tooling import profiles

    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path))
    monkeypatch.delenv("CONSERVAE_INPUTS_DIGEST", raising=False)
    cfg = profiles.configure("conservative_autoencoders", "smoke")
    prov = files.load_json(results.save_summary(cfg, {"claims": [{"id": "prop1", "data": "synthetic"}]}))["provenance"]
    assert prov["profile"] == "smoke" and prov["chapter"] == "conservative_autoencoders"
    assert prov["parameters"] == {k: v for k, v in cfg.items() if k not in ("profile", "chapter")}
    assert prov["data"] == "synthetic" and prov["inputs_digest"] is None and prov["overrides"] == []
    assert prov["commit"] is None or len(prov["commit"]) == 40
    monkeypatch.setenv("CONSERVAE_INPUTS_DIGEST", "abc123")
    prov = files.load_json(results.save_summary(cfg, {"claims": []}, data="MNIST"))["provenance"]
    assert prov["inputs_digest"] == "abc123" and prov["data"] == "MNIST"


def test_save_summary_refuses_a_cfg_without_chapter_and_a_non_dict_summary(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSERVAE_RESULTS", str(tmp_path))
    with pytest.raises(ValueError, match="PARAMETERS.resolve"):
        results.save_summary({"seed": 0}, {"claims": []})
    from conservae_lib.tooling import profiles

    with pytest.raises(TypeError, match="must be a dict"):
        results.save_summary(profiles.configure("conservative_autoencoders", "smoke"), [1, 2])
