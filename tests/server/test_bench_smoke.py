"""The serve benchmark, smoke-sized: every scenario starts, answers 200, and the table renders (no timing claims)."""

from __future__ import annotations

from pathlib import Path

from bench.bench_serve import Options, run, table


def test_bench_serve_smoke(tmp_path: Path) -> None:
    opts = Options(smoke=True, smoke_requests=30, interactions=1500, rounds=1)
    results = run(opts, tmp_path)
    names = [r.name for r in results]
    assert names[:4] == ["ceiling", "hit10", "hit-big", "derived"]
    assert "two-workers" in names
    assert all(r.rps > 0 for r in results), results
    for r in results:  # every answer is a 200, except the strict-miss pair's 404s by design
        assert (r.errors > 0) is ("miss" in r.name), r
        assert r.errors % opts.smoke_requests == 0, r
    text = table(results, opts)
    assert sum(line.startswith("| ") for line in text.splitlines()) == len(results) + 1  # header + rows
    assert "1,500 interactions loaded" in text


def test_bench_security_smoke(tmp_path: Path) -> None:
    from bench import bench_security

    opts = Options(smoke=True, smoke_requests=20, rounds=1)
    results = bench_security.run(opts, tmp_path)
    assert [r.name for r in results] == ["http-ceiling", "http-hit", "tls-ceiling", "tls-hit", "tls-ceiling-auth",
                                         "tls-jwt"]
    assert all(r.rps > 0 and r.errors == 0 for r in results), results  # every answer a 200: HTTPS and the token work
    assert sum(line.startswith("| ") for line in bench_security.table(results, opts).splitlines()) == 7
