"""The widget's text/HTML fallback from run views: what a failed run and a text result read like."""

from __future__ import annotations

from inference_nb.widget.text_fallback import summary_html, summary_text

HOSTILE = "<img src=x onerror=alert(1)>"


def view(**fields) -> dict:
    return {"label": "demo/fail@1.0.0", "phase": "failed", "status": "Failed", "summary": None, "error": None,
            "preview": None, "text": None, **fields}  # fmt: skip


def test_a_failed_run_reads_failed_with_the_servers_reason_escaped_in_html():
    failed = view(error=f"{HOSTILE} the disk is on fire", label=HOSTILE)
    assert (
        summary_text(failed, server="x")
        == f"InferenceWidget: {HOSTILE} — Failed\nFailed: {HOSTILE} the disk is on fire"
    )
    html = summary_html(failed, server="x")
    assert "<img" not in html and html.count("&lt;img src=x onerror=alert(1)&gt;") == 2
    assert summary_text(view(), server="x").endswith("Failed: the server gave no reason")


def test_a_text_result_is_one_line_cut_short():
    done = view(
        phase="succeeded",
        status="done",
        label="How many?",
        summary="Counted.",
        text='{\n  "value": ' + "9" * 500 + "\n}",
    )
    lines = summary_text(done, server="x").splitlines()
    assert lines[:2] == ["InferenceWidget: How many? — done", "Counted."]
    assert lines[2].startswith('{ "value": 999') and lines[2].endswith("…") and len(lines[2]) == 200
    assert "<pre>" in summary_html(done, server="x")
