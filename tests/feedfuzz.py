"""A seeded mutator of GTFS (+ Flex) feeds and a runner that checks each mutant ends cleanly (test helper).

``mutate(files, rng)`` applies one hostile change of the kinds seen in the field (missing files and columns,
header-only and empty files, garbage bytes, latin-1, truncated or corrupted zip members, 5 MB lines, bad
times, out-of-range or swapped coordinates, dangling ids, impossible calendars, broken ``locations.geojson``,
unknown ``booking_type``, unknown time zone, negative safe durations...) and returns its name.
``run_forked(fn, timeout_s)`` runs ``fn`` in a forked child (so a hang or a memory blow-up is contained and
killed) and returns its exit status, its stderr and the elapsed time.
"""

from __future__ import annotations

import io
import os
import random
import signal
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Callable

REQUIRED = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
BIG = 5 * 1024 * 1024


def read_feed(path: Path) -> dict[str, bytes]:
    """Every file of a feed folder or zip, by base name."""
    if path.is_dir():
        return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}
    with zipfile.ZipFile(path) as z:
        return {Path(n).name: z.read(n) for n in z.namelist() if not n.endswith("/") and "__MACOSX" not in n}


def write_feed(files: dict[str, bytes], out: Path, as_zip: bool) -> Path:
    if as_zip:
        target = out.with_suffix(".zip")
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in files.items():
                z.writestr(name, data)
        return target
    out.mkdir(parents=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
    return out


def _rows(data: bytes) -> list[list[str]]:
    import csv

    text = data.decode("utf-8-sig", errors="replace")
    return [r for r in csv.reader(io.StringIO(text))]


def _unrows(rows: list[list[str]]) -> bytes:
    import csv

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode("utf-8")


def _set_column(files: dict[str, bytes], name: str, column: str, values: Callable[[int, str], str],
                rng: random.Random, share: float = 0.3) -> bool:
    if name not in files:
        return False
    rows = _rows(files[name])
    if not rows or column not in rows[0] or len(rows) < 2:
        return False
    col = rows[0].index(column)
    picked = [i for i in range(1, len(rows)) if len(rows[i]) > col and rng.random() < share] or [1]
    for i in picked:
        if len(rows[i]) > col:
            rows[i][col] = values(i, rows[i][col])
    files[name] = _unrows(rows)
    return True


def _csv_names(files: dict[str, bytes]) -> list[str]:
    return sorted(n for n in files if n.endswith(".txt"))


# ----------------------------------------------------------------------------------------- mutations
def m_drop_file(files, rng):
    name = rng.choice(sorted(files))
    del files[name]
    return f"drop {name}"


def m_drop_column(files, rng):
    name = rng.choice(_csv_names(files))
    rows = _rows(files[name])
    if not rows or not rows[0]:
        return None
    col = rng.randrange(len(rows[0]))
    files[name] = _unrows([r[:col] + r[col + 1:] for r in rows])
    return f"drop column {rows[0][col]} of {name}"


def m_header_only(files, rng):
    name = rng.choice([n for n in REQUIRED if n in files] or _csv_names(files))
    files[name] = files[name].split(b"\n", 1)[0] + b"\n"
    return f"header-only {name}"


def m_empty_file(files, rng):
    name = rng.choice(_csv_names(files))
    files[name] = b""
    return f"empty {name}"


def m_garbage(files, rng):
    name = rng.choice(sorted(files))
    files[name] = bytes(rng.randrange(256) for _ in range(rng.choice((10, 500, 5000))))
    return f"garbage bytes in {name}"


def m_garbage_inside(files, rng):
    name = rng.choice(sorted(files))
    data = bytearray(files[name])
    for _ in range(rng.randint(1, 20)):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    files[name] = bytes(data)
    return f"flipped bytes in {name}"


def m_latin1(files, rng):
    name = rng.choice(_csv_names(files))
    text = files[name].decode("utf-8", errors="replace").replace("e", "é", 50)
    files[name] = text.encode("latin-1", errors="replace")
    return f"latin-1 {name}"


def m_truncate(files, rng):
    name = rng.choice(sorted(files))
    files[name] = files[name][: rng.randrange(max(1, len(files[name])))]
    return f"truncated {name}"


def m_long_line(files, rng):
    name = rng.choice(_csv_names(files))
    rows = _rows(files[name])
    if len(rows) < 2:
        return None
    rows[1][0] = "x" * BIG
    files[name] = _unrows(rows)
    return f"5 MB field in {name}"


def m_comma_header(files, rng):
    name = rng.choice(_csv_names(files))
    files[name] = b"," * BIG + b"\n" + files[name]
    return f"5 MB header of commas in {name}"


def m_long_stop_name(files, rng):
    ok = _set_column(files, "stops.txt", "stop_name", lambda i, v: "Gare " * (BIG // 5), rng, share=0.0)
    return "5 MB stop name" if ok else None


def m_bad_time(files, rng):
    bad = rng.choice(["25:61:00", "7h30", "-01:00:00", "99999999:00:00", "12:00", "nan", "1e9", "１２:００:００"])
    for col in ("arrival_time", "departure_time", "start_pickup_drop_off_window"):
        if _set_column(files, "stop_times.txt", col, lambda i, v: bad, rng, share=0.02):
            return f"bad time {bad!r} in {col}"
    return None


def m_coordinates(files, rng):
    kind = rng.choice(["range", "swap", "nan", "zero", "huge"])
    if "stops.txt" not in files:
        return None
    rows = _rows(files["stops.txt"])
    if len(rows) < 2 or "stop_lat" not in rows[0] or "stop_lon" not in rows[0]:
        return None
    la, lo = rows[0].index("stop_lat"), rows[0].index("stop_lon")
    for r in rows[1:]:
        if len(r) <= max(la, lo):
            continue
        if kind == "swap":
            r[la], r[lo] = r[lo], r[la]
        elif rng.random() < 0.2:
            r[la] = {"range": "123.5", "nan": "nan", "zero": "0", "huge": "1e400"}[kind]
            if kind == "zero":
                r[lo] = "0"
    files["stops.txt"] = _unrows(rows)
    return f"coordinates: {kind}"


def m_dangling(files, rng):
    name, col = rng.choice([("trips.txt", "route_id"), ("trips.txt", "service_id"), ("stop_times.txt", "stop_id"),
                            ("stop_times.txt", "trip_id"), ("stops.txt", "parent_station"),
                            ("routes.txt", "agency_id"), ("stop_times.txt", "pickup_booking_rule_id")])
    ok = _set_column(files, name, col, lambda i, v: f"ghost-{i}", rng, share=0.05)
    return f"dangling {name}.{col}" if ok else None


def m_duplicate_ids(files, rng):
    name, col = rng.choice([("trips.txt", "trip_id"), ("stops.txt", "stop_id"), ("routes.txt", "route_id")])
    if name not in files:
        return None
    rows = _rows(files[name])
    if len(rows) < 3 or col not in rows[0]:
        return None
    c = rows[0].index(col)
    rows[2][c] = rows[1][c]
    files[name] = _unrows(rows)
    return f"duplicate {name}.{col}"


def m_calendar(files, rng):
    bad = rng.choice(["99991231", "20261345", "2026-12-01", "00000000", "19000101"])
    for name, col in (("calendar.txt", "end_date"), ("calendar_dates.txt", "date")):
        if _set_column(files, name, col, lambda i, v: bad, rng, share=0.5):
            return f"calendar {name}.{col} = {bad}"
    return None


def m_calendar_order(files, rng):
    if "calendar.txt" not in files:
        return None
    rows = _rows(files["calendar.txt"])
    if len(rows) < 2 or "start_date" not in rows[0]:
        return None
    s, e = rows[0].index("start_date"), rows[0].index("end_date")
    for r in rows[1:]:
        if len(r) > max(s, e):
            r[s], r[e] = r[e], r[s]
    files["calendar.txt"] = _unrows(rows)
    return "calendar start after end"


def m_locations(files, rng):
    broken = rng.choice(['"a string"', "[1, 2, 3]", "{", "null", '{"type": "FeatureCollection", "features": 3}',
                         '{"type": "FeatureCollection", "features": ["x"]}',
                         '{"type": "FeatureCollection", "features": [{"id": "z", "geometry": {"type": "Polygon"}}]}',
                         '{"type": "FeatureCollection", "features": [{"id": "z", "geometry": null}]}',
                         '{"type": "FeatureCollection", "features": [{"geometry": {"type": "Point", '
                         '"coordinates": [1, 2]}}]}', "[" * 100000])
    files["locations.geojson"] = broken.encode()
    return f"locations.geojson = {broken[:40]}"


def m_booking_type(files, rng):
    value = rng.choice(["7", "-1", "x", "2.5", ""])
    ok = _set_column(files, "booking_rules.txt", "booking_type", lambda i, v: value, rng, share=1.0)
    return f"booking_type {value!r}" if ok else None


def m_timezone(files, rng):
    tz = rng.choice(["Mars/Olympus_Mons", "", "UTC+2", "../../etc/passwd"])
    ok = _set_column(files, "agency.txt", "agency_timezone", lambda i, v: tz, rng, share=1.0)
    return f"agency_timezone {tz!r}" if ok else None


def m_safe_duration(files, rng):
    col = rng.choice(["safe_duration_factor", "safe_duration_offset"])
    if "trips.txt" not in files:
        return None
    rows = _rows(files["trips.txt"])
    if len(rows) < 2:
        return None
    if col not in rows[0]:
        rows[0].append(col)
        for r in rows[1:]:
            r.append("")
    c = rows[0].index(col)
    for r in rows[1:]:
        if len(r) > c:
            r[c] = rng.choice(["-5", "-1000", "nan", "inf"])
    files["trips.txt"] = _unrows(rows)
    return f"bad {col}"


def m_nul(files, rng):
    name = rng.choice(_csv_names(files))
    data = files[name]
    pos = rng.randrange(max(1, len(data)))
    files[name] = data[:pos] + b"\x00" * rng.randint(1, 50) + data[pos:]
    return f"NUL bytes in {name}"


def _edit_line(files, rng, change: Callable[[bytes], bytes], what: str):
    """Apply ``change`` to one random data line (raw bytes) of a random CSV file."""
    name = rng.choice(_csv_names(files))
    lines = files[name].split(b"\n")
    if len(lines) < 3:
        return None
    i = rng.randrange(1, len(lines))
    lines[i] = change(lines[i])
    files[name] = b"\n".join(lines)
    return f"{what} in {name}"


def m_quote(files, rng):
    return _edit_line(files, rng, lambda line: b'"' + line, "unbalanced quote")


def m_junk_cells(files, rng):
    name = rng.choice(_csv_names(files))
    rows = _rows(files[name])
    if len(rows) < 2:
        return None
    junk = ["", "-", "∞", "1e400", "-999999999999999999999", "0x10", "NaN", " ", "\"", "1,5", "\n"]
    for _ in range(rng.randint(1, 10)):
        r = rng.randrange(1, len(rows))
        if rows[r]:
            rows[r][rng.randrange(len(rows[r]))] = rng.choice(junk)
    files[name] = _unrows(rows)
    return f"junk cells in {name}"


def m_ragged(files, rng):
    longer = rng.random() < 0.5
    return _edit_line(files, rng, lambda line: line + b",extra,cells" if longer else line.split(b",")[0],
                      "ragged row")


def m_flex_types(files, rng):
    col = rng.choice(["pickup_type", "drop_off_type"])
    value = rng.choice(["0", "3", "9", "-1"])
    ok = _set_column(files, "stop_times.txt", col, lambda i, v: value, rng, share=0.3)
    return f"{col} = {value}" if ok else None


CSV_MUTATIONS = [m_drop_file, m_drop_column, m_header_only, m_empty_file, m_garbage, m_garbage_inside, m_latin1,
                 m_truncate, m_long_line, m_comma_header, m_long_stop_name, m_bad_time, m_coordinates,
                 m_dangling, m_duplicate_ids, m_calendar, m_calendar_order, m_locations, m_booking_type,
                 m_timezone, m_safe_duration, m_nul, m_quote, m_junk_cells, m_ragged, m_flex_types]


def corrupt_zip(path: Path, rng: random.Random) -> str:
    """Damage a written zip in place: truncate it, or flip bytes inside a compressed member."""
    data = bytearray(path.read_bytes())
    if rng.random() < 0.4:
        path.write_bytes(bytes(data[: rng.randrange(len(data))]))
        return "truncated zip"
    with zipfile.ZipFile(path) as z:
        info = rng.choice(z.infolist())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for _ in range(8):
        if info.compress_size:
            data[start + rng.randrange(info.compress_size)] ^= 0xFF
    path.write_bytes(bytes(data))
    return f"corrupted zip member {info.filename}"


def make_mutant(source: Path, seed: int, workdir: Path) -> tuple[Path, str]:
    """Mutant ``seed`` of the feed at ``source``, written under ``workdir``; returns (path, description)."""
    rng = random.Random(seed)
    files = read_feed(source)
    what = None
    while what is None:
        what = rng.choice(CSV_MUTATIONS)(files, rng) if files else "no file"
    as_zip = rng.random() < 0.3
    path = write_feed(files, workdir / f"m{seed}", as_zip)
    if as_zip and rng.random() < 0.3:
        what += "; " + corrupt_zip(path, rng)
    return path, what


# ----------------------------------------------------------------------------------------- runner
def run_forked(fn: Callable[[], int], timeout_s: float) -> tuple[int | None, str, float]:
    """Run ``fn`` in a forked child; returns (exit status or None when killed on timeout, stderr, seconds)."""
    err = tempfile.TemporaryFile()
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:  # child
        status = 99
        try:
            os.dup2(err.fileno(), 2)
            sys.stderr = os.fdopen(2, "w", buffering=1)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            sys.stdout = os.fdopen(1, "w")
            status = int(fn())
        except BaseException:  # noqa: BLE001 - the child reports a traceback as exit 98
            import traceback

            traceback.print_exc()
            status = 98
        finally:
            try:
                sys.stderr.flush()
                sys.stdout.flush()
            finally:
                os._exit(status)
    deadline = t0 + timeout_s
    status: int | None = None
    while True:
        done, code = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(code)
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            break
        time.sleep(0.01)
    elapsed = time.monotonic() - t0
    err.seek(0)
    text = err.read().decode("utf-8", errors="replace")
    err.close()
    return status, text, elapsed
