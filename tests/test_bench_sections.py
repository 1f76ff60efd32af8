"""The benchmark scripts share docs/benchmarks.md: each rewrites only its own section."""

from __future__ import annotations

from pathlib import Path

from bench.sections import sections, write_section


def test_each_writer_keeps_the_others_sections(tmp_path: Path) -> None:
    report = tmp_path / "benchmarks.md"
    write_section(report, "bench/run.py", "# Benchmarks\n\ncluster figures v1", head=True)
    write_section(report, "bench/probe.py", "## The node probe\n\nprobe v1")
    write_section(report, "bench/plan.py", "## plan\n\nplan v1")
    write_section(report, "bench/run.py", "# Benchmarks\n\ncluster figures v2", head=True)
    write_section(report, "bench/probe.py", "## The node probe\n\nprobe v2")
    text = report.read_text()
    assert list(sections(text)) == ["bench/run.py", "bench/probe.py", "bench/plan.py"]
    assert "cluster figures v2" in text and "probe v2" in text and "plan v1" in text
    assert "v1" not in text.replace("plan v1", "")
    assert text.startswith("<!-- bench/run.py: begin -->\n# Benchmarks\n")


def test_an_older_report_without_markers_is_replaced_but_for_the_other_sections(tmp_path: Path) -> None:
    report = tmp_path / "benchmarks.md"
    report.write_text("# Benchmarks\n\nold cluster figures\n\n<!-- bench/probe.py: begin -->\n## The node probe\n"
                      "probe figures\n<!-- bench/probe.py: end -->\n")
    write_section(report, "bench/run.py", "# Benchmarks\n\nnew cluster figures", head=True)
    text = report.read_text()
    assert "old cluster figures" not in text
    assert "new cluster figures" in text and "probe figures" in text
    assert list(sections(text)) == ["bench/run.py", "bench/probe.py"]


def test_a_section_written_first_into_a_missing_file(tmp_path: Path) -> None:
    report = tmp_path / "docs" / "benchmarks.md"
    write_section(report, "bench/probe.py", "## The node probe")
    assert report.read_text() == "<!-- bench/probe.py: begin -->\n## The node probe\n<!-- bench/probe.py: end -->\n"
