"""The book builder: a failed chapter never destroys the previous good output; the scoreboard renders."""
from __future__ import annotations

import json
from pathlib import Path

from kaleido_lib import build, results

NOTEBOOK = '''# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A chapter

# %% tags=["parameters"]
profile = "paper"

# %%
import kaleido_lib as kl
{body}
'''

GOOD = '''claim = kl.results.Claim(id="c", claim="x", paper="p", measure="m", measured=kl.results.spread([1.0]),
                         criterion="c", share_pass=1.0, verdict="holds")
kl.results.write_results("chap", "T", [claim], profile=profile, parameters={{}})
kl.plots.savefig(__import__("matplotlib.pyplot").pyplot.figure(), "chap", "fig")'''


def _write(tmp: Path, body: str) -> Path:
    src = tmp / "src" / "chap.py"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(NOTEBOOK.replace("{body}", body.replace("{{}}", "{}")))
    return src


def test_failed_chapter_keeps_previous_good_output(tmp_path):
    book = tmp_path / "book"
    ok, _, log = build.execute(_write(tmp_path, GOOD), book, "ci")
    assert ok and log is None
    good_nb = (book / "chap.ipynb").read_text()
    good_res = (book / "results" / "chap.json").read_text()
    assert json.loads(good_res)["profile"] == "ci" and (book / "figures" / "chap" / "fig.png").exists()

    # the same chapter now writes new results, then fails
    failing = GOOD.replace('profile=profile', 'profile="changed"') + '\nraise RuntimeError("boom")'
    ok, _, log = build.execute(_write(tmp_path, failing), book, "ci")
    assert not ok and log is not None and "boom" in log.read_text()
    assert (book / "chap.ipynb").read_text() == good_nb
    assert (book / "results" / "chap.json").read_text() == good_res
    assert (book / "figures" / "chap" / "fig.png").exists()


def test_render_pages_writes_scoreboard_and_summary(tmp_path):
    claim = results.Claim(id="c", claim="x", paper="p", measure="m", measured=results.spread([1.0]),
                          criterion="c", share_pass=0.0, verdict="fails")
    results.write_results("chap", "T", [claim], profile="ci", parameters={}, out=tmp_path)
    summary = build.render_pages(tmp_path)
    assert summary == "1 claims tested in 1 chapters: 0 hold, 0 partly, 1 fail."
    table = (tmp_path / "results" / "scoreboard_table.md").read_text()
    assert "{doc}`chap </book/chap>`" in table and "❌ fails" in table
    assert (tmp_path / "results" / "timings_table.md").exists()
